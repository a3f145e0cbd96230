/* cfg_store.c - what the config-store target kinds share.  See
 * cfg_store.h.
 *
 * Each target keeps, per tenant entry, the value read before the deploy
 * (or its absence) and its revision or ETag; only entries whose bytes
 * differ from the plan's are checkpointed and written, so a re-apply costs
 * O(changed) writes.  Writes are conditional on what was read, so a
 * concurrent writer makes the deploy fail and roll back instead of being
 * overwritten silently; a rollback restores the checkpointed bytes
 * unconditionally (the checkpoint is authoritative, as for Redis). */
#include "cfg_store.h"

#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "statedir.h"
#include "xalloc.h"

target *cfg_create(size_t size, const target_kind *k, const json_t *tj,
                   const target_env *env)
{
    cfg_target *t = xcalloc(1, size);
    t->base.kind = k;
    t->base.env = env;
    const char *name = json_string_value(json_object_get(tj, "name"));
    snprintf(t->base.name, sizeof t->base.name, "%s", name ? name : "?");
    json_t *d = json_pack("{s:s,s:s,s:O}", "name", t->base.name, "kind", k->name, "settings",
                          json_object_get(tj, "settings") ?: json_object());
    if (json_object_get(tj, "endpoints"))
        json_object_set(d, "endpoints", json_object_get(tj, "endpoints"));
    if (json_object_get(tj, "url"))
        json_object_set(d, "url", json_object_get(tj, "url"));
    if (json_object_get(tj, "redis_target"))
        json_object_set(d, "redis_target", json_object_get(tj, "redis_target"));
    t->base.desc = d;
    const char *pf = json_string_value(json_object_get(json_object_get(tj, "settings"),
                                                       "prefix"));
    snprintf(t->prefix, sizeof t->prefix, "%s%s/", pf ? pf : "/rlc/", env->ns ? env->ns : "rl");
    return &t->base;
}

void cfg_entries_free(cfg_target *t)
{
    for (size_t i = 0; i < t->nent; i++) {
        free(t->ent[i].tenant);
        free(t->ent[i].key);
        free(t->ent[i].newval);
        free(t->ent[i].oldval);
        free(t->ent[i].oldtag);
    }
    free(t->ent);
    t->ent = NULL;
    t->nent = 0;
}

void cfg_clear(cfg_target *t)
{
    cfg_entries_free(t);
    json_decref(t->base.desc);
}

int cfg_timeout_ms(const target *t, int dflt)
{
    int ms = dflt;
    json_t *to = json_object_get(json_object_get(t->desc, "settings"), "timeout_ms");
    if (json_is_integer(to) && json_integer_value(to) > 0)
        ms = (int)json_integer_value(to);
    const char *env = getenv("RLC_TIMEOUT_MS");
    if (env && atoi(env) > 0)
        ms = atoi(env);
    return ms;
}

/* Tenant names in keys and paths: every byte outside RFC 3986's unreserved
 * set as %XX (upper-case), so a name never adds a key level ("/") or
 * changes a URL's meaning ("?", "#"). */
char *cfg_enc_name(const char *s)
{
    size_t n = strlen(s);
    char *o = xmalloc(3 * n + 1), *p = o;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            *p++ = (char)c;
        else
            p += sprintf(p, "%%%02X", c);
    }
    *p = '\0';
    return o;
}

char *cfg_config_text(const json_t *tenant)
{
    json_t *c = json_pack("{s:O,s:O,s:O}", "name", json_object_get(tenant, "name"), "version",
                          json_object_get(tenant, "version"), "rules",
                          json_object_get(tenant, "rules"));
    char *s = digest_canonical_json(c);
    json_decref(c);
    return s;
}

/* Whether a live value is exactly the canonical config of version ver:
 * canonical bytes, "version" equal to ver, and its rules hashing to it. */
const char *cfg_config_problem(const char *val, size_t len, const char *ver)
{
    json_t *j = json_loadb(val, len, 0, NULL);
    if (!j)
        return "not valid JSON";
    const char *why = NULL;
    char *canon = digest_canonical_json(j);
    char hex[DIGEST_HEX_LEN + 1] = "";
    digest_json_hex(json_object_get(j, "rules"), hex);
    const char *v = json_string_value(json_object_get(j, "version"));
    if (!v || (ver && strcmp(v, ver)))
        why = "version differs from the applied one";
    else if (strcmp(hex, v))
        why = "rules edited: they no longer hash to the version";
    else if (!canon || strlen(canon) != len || memcmp(canon, val, len))
        why = "value rewritten (not the canonical text rlc wrote)";
    free(canon);
    json_decref(j);
    return why;
}

json_t *cfg_version_of(const char *val, size_t len)
{
    if (!val)
        return json_null();
    json_t *j = json_loadb(val, len, 0, NULL);
    json_t *v = json_incref(json_object_get(j, "version"));
    json_decref(j);
    return v ? v : json_string("(not an rlc config)");
}

bool cfg_ck_entry(const target *t, const json_t *entry, const char **key, char **val,
                  size_t *len, rerr *e)
{
    *key = json_string_value(json_object_get(entry, "k"));
    const char *v64 = json_string_value(json_object_get(entry, "v64"));
    *val = NULL;
    *len = 0;
    if (!*key)
        return rerr_set(e, DIAG_CHECKPOINT, "a checkpoint entry of %s lacks its key", t->name);
    if (v64 && !(*val = etcd_unbase64(v64, len)))
        return rerr_set(e, DIAG_CHECKPOINT, "checkpoint value of %s is not base64", *key);
    return true;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const cfg_entry *)a)->key, ((const cfg_entry *)b)->key);
}

void cfg_sort_entries(cfg_target *t)
{
    if (t->nent > 1)
        qsort(t->ent, t->nent, sizeof *t->ent, cmp_entry);
}

void cfg_count(const cfg_target *t, target_read *r)
{
    for (size_t m = 0; m < t->nent; m++) {
        r->changed += t->ent[m].changed && t->ent[m].newval;
        r->removed += t->ent[m].changed && !t->ent[m].newval;
    }
}

void cfg_changes(const target *tg, json_t *out)
{
    const cfg_target *t = (const cfg_target *)tg;
    for (size_t m = 0; m < t->nent; m++) {
        const cfg_entry *x = &t->ent[m];
        if (!x->changed)
            continue;
        json_t *to = x->newval ? cfg_version_of(x->newval, x->newlen) : json_null();
        json_array_append_new(out, json_pack("{s:s,s:s,s:o,s:o}", "target", tg->name, "tenant",
                                             x->tenant, "from",
                                             cfg_version_of(x->oldval, x->oldlen), "to", to));
    }
}

/* --- checkpoint ------------------------------------------------------------------ */

static json_t *b64_or_null(const char *p, size_t n)
{
    if (!p)
        return json_null();
    char *s = etcd_base64(p, n);
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
}

json_t *cfg_checkpoint_keys(const cfg_target *t)
{
    json_t *keys = json_array();
    for (size_t m = 0; m < t->nent; m++)
        if (t->ent[m].changed) {
            json_t *k = json_pack("{s:s,s:o,s:I}", "k", t->ent[m].key, "v64",
                                  b64_or_null(t->ent[m].oldval, t->ent[m].oldlen), "rev",
                                  (json_int_t)t->ent[m].oldrev);
            if (t->ent[m].oldtag)
                json_object_set_new(k, "etag", json_string(t->ent[m].oldtag));
            json_array_append_new(keys, k);
        }
    return keys;
}

json_t *cfg_checkpoint(target *tg, rerr *e)
{
    (void)e;
    return json_pack("{s:O,s:o}", "target", tg->desc, "keys",
                     cfg_checkpoint_keys((cfg_target *)tg));
}

/* Checkpointed entries are the changed ones (plus etcd's deploy/state,
 * always saved); none says nothing about the plan that was active. */
int cfg_ck_noop(const json_t *entry, const char *plan_digest)
{
    (void)plan_digest;
    size_t k;
    const json_t *kj;
    json_array_foreach(json_object_get(entry, "keys"), k, kj) {
        const char *key = json_string_value(json_object_get(kj, "k"));
        size_t kl = key ? strlen(key) : 0;
        if (kl < 13 || strcmp(key + kl - 13, "/deploy/state"))
            return -1;
    }
    return 0;
}

/* --- diff ------------------------------------------------------------------------- */

static json_t *rules_by_id(const char *val, size_t len)
{
    json_t *m = json_object();
    json_t *j = val ? json_loadb(val, len, 0, NULL) : NULL;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(j, "rules"), i, r) {
        const char *id = json_string_value(json_object_get(r, "id"));
        if (id)
            json_object_set(m, id, r);
    }
    json_decref(j);
    return m;
}

/* A diff item in the shape of a Redis target's: id, kind, subject,
 * counter, and was/now as text. */
static json_t *diff_item(const char *id, const json_t *was, const json_t *now)
{
    const json_t *r = now ? now : was;
    char subj[512] = "";
    /* The subject below the tenant as the plan writes it (SPEC.md 5.5);
     * none: the tenant itself. */
    snprintf(subj, sizeof subj, "%s", json_string_value(json_object_get(r, "subject")) ?: "");
    json_t *route = json_object_get(r, "route");
    if (json_is_object(route))
        snprintf(subj + strlen(subj), sizeof subj - strlen(subj), "%s%s %s",
                 subj[0] ? " " : "", json_string_value(json_object_get(route, "method")) ?: "",
                 json_string_value(json_object_get(route, "path")) ?: "");
    json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "id", id, "kind",
                          json_string_value(json_object_get(r, "kind")) ?: "rate", "subject",
                          subj[0] ? subj : "(tenant)", "counter",
                          "none here (this target holds config only)");
    if (was) {
        char *t = digest_canonical_json(was);
        json_object_set_new(d, "was", json_string(t));
        free(t);
    }
    if (now) {
        char *t = digest_canonical_json(now);
        json_object_set_new(d, "now", json_string(t));
        free(t);
    }
    return d;
}

/* One changed entry: its rules added, removed and changed. */
static json_t *diff_entry(const target *tg, const cfg_entry *x)
{
    json_t *old = rules_by_id(x->oldval, x->oldlen);
    json_t *neu = rules_by_id(x->newval, x->newlen);
    json_t *added = json_array(), *removed = json_array(), *changed = json_array();
    size_t same = 0;
    const char *id;
    json_t *r;
    json_object_foreach(neu, id, r) {
        json_t *o = json_object_get(old, id);
        if (!o)
            json_array_append_new(added, diff_item(id, NULL, r));
        else if (!json_equal(o, r))
            json_array_append_new(changed, diff_item(id, o, r));
        else
            same++;
    }
    json_object_foreach(old, id, r)
        if (!json_object_get(neu, id))
            json_array_append_new(removed, diff_item(id, r, NULL));
    json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:I}", "target", tg->name,
                          "kind", tg->kind->name, "key", x->key, "tenant", x->tenant, "from",
                          cfg_version_of(x->oldval, x->oldlen), "to",
                          x->newval ? cfg_version_of(x->newval, x->newlen) : json_null(),
                          "added", added, "removed", removed, "changed", changed, "unchanged",
                          (json_int_t)same);
    if (x->oldval && !json_object_size(old))
        json_object_set_new(d, "live_value_not_a_config", json_true());
    json_decref(old);
    json_decref(neu);
    return d;
}

bool cfg_diff(target *tg, json_t *summary, json_t *tenants, rerr *e)
{
    (void)summary;
    (void)e;
    const cfg_target *t = (const cfg_target *)tg;
    for (size_t m = 0; m < t->nent; m++)
        if (t->ent[m].changed)
            json_array_append_new(tenants, diff_entry(tg, &t->ent[m]));
    return true;
}

bool cfg_file_read(cfg_target *t, const char *label, const char *path, const char *data,
                   size_t len, target_read *rd, rerr *e)
{
    t->ent = xcalloc(1, sizeof *t->ent);
    t->nent = 1;
    cfg_entry *x = &t->ent[0];
    x->tenant = xstrdup(label);
    x->key = xstrdup(path);
    x->newlen = len;
    x->newval = xmalloc(len + 1);
    memcpy(x->newval, data, len);
    x->newval[len] = '\0';
    size_t oldlen = 0;
    errno = 0;
    char *old = statedir_read(path, &oldlen);
    if (!old && errno != ENOENT)
        return rerr_set(e, DIAG_STATE_IO, "target %s: cannot read %s: %s", t->base.name, path,
                        strerror(errno));
    x->oldval = old;
    x->oldlen = oldlen;
    x->changed = !old || oldlen != len || memcmp(old, data, len);
    cfg_count(t, rd);
    return true;
}

bool cfg_put_file(const target *t, const char *path, const char *data, size_t len, rerr *e)
{
    if (!data) {
        if (unlink(path) != 0 && errno != ENOENT)
            return rerr_set(e, DIAG_STATE_IO, "target %s: cannot remove %s: %s", t->name, path,
                            strerror(errno));
        return statedir_sync_parent(path, e);
    }
    if (!statedir_write_atomic(path, data, len, 0644, e)) {
        rerr_prefix(e, "target %s", t->name);
        return false;
    }
    return true;
}

bool cfg_file_unchanged(const target *t, const cfg_entry *x, rerr *e)
{
    size_t len = 0;
    errno = 0;
    char *now = statedir_read(x->key, &len);
    bool same = now ? x->oldval && len == x->oldlen && !memcmp(now, x->oldval, len)
                    : !x->oldval && errno == ENOENT;
    free(now);
    if (!same)
        return rerr_set(e, DIAG_GATEWAY_CONFLICT, "target %s: %s changed since it was read "
                        "(by hand or another deploy); nothing was written to it", t->name,
                        x->key);
    return true;
}

bool cfg_file_verify(target *tg, json_t *summary, rerr *e)
{
    (void)summary;
    cfg_target *t = (cfg_target *)tg;
    cfg_entry *x = t->nent ? &t->ent[0] : NULL;
    if (!x || !x->changed)
        return true;
    size_t len = 0;
    char *now = statedir_read(x->key, &len);
    bool same = now && len == x->newlen && !memcmp(now, x->newval, len);
    free(now);
    if (!same)
        return rerr_set(e, DIAG_GATEWAY_VERIFY, "target %s: %s reads back differently than "
                        "written", tg->name, x->key);
    return true;
}

bool cfg_file_restore(target *tg, const json_t *entry, bool (*after)(const target *, rerr *),
                      rerr *e)
{
    size_t i;
    json_t *kj;
    json_array_foreach(json_object_get(entry, "keys"), i, kj) {
        const char *key;
        char *val;
        size_t len;
        if (!cfg_ck_entry(tg, kj, &key, &val, &len, e))
            return false;
        bool ok = cfg_put_file(tg, key, val, len, e);
        free(val);
        if (!ok || (after && !after(tg, e)))
            return false;
    }
    return true;
}

