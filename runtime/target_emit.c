/* target_emit.c - the emit target kinds (SPEC.md 9.2, 9.1):
 * envoy_ratelimit and limitador.  The compiler wrote the whole file into
 * the target's write_file step (the plan's digest covers it); a deploy
 * writes those bytes to the target's `output` atomically (temp file,
 * fsync, rename: base/file_write.h) and reads them back.  Like the nginx
 * target, one entry per target: the file, whose checkpoint is the old
 * file (or its absence), which a rollback writes back (or removes).  It
 * does not signal the service: Envoy's ratelimit service and Limitador
 * both watch their file (or the ConfigMap it is mounted from).
 * It never parses YAML: status checks the digest in the file's first
 * line, which covers every byte after it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg_store.h"
#include "digest.h"
#include "fault.h"
#include "file_write.h"
#include "statedir.h"
#include "xalloc.h"

extern const target_kind target_envoy_ratelimit, target_limitador;

static target *em_create(const json_t *tj, const json_t *all, const target_env *env, rerr *e)
{
    (void)all;
    (void)e;
    const char *kind = json_string_value(json_object_get(tj, "kind"));
    const target_kind *k = kind && !strcmp(kind, "limitador") ? &target_limitador
                                                              : &target_envoy_ratelimit;
    return cfg_create(sizeof(cfg_target), k, tj, env);
}

static void em_free(target *tg)
{
    cfg_clear((cfg_target *)tg);
    free(tg);
}

static const char *output_of(const target *t)
{
    return json_string_value(json_object_get(json_object_get(t->desc, "settings"), "output"));
}

static bool em_override(target *tg, const char *spec, rerr *e)
{
    (void)spec;
    return rerr_set(e, DIAG_STORE_URL, "--target %s: a %s target writes a file and has no "
                    "address to override (change its output in the policy)", tg->name,
                    tg->kind->name);
}

static bool em_connect(target *tg, rerr *e)
{
    (void)e;
    snprintf(tg->addr, sizeof tg->addr, "%s", output_of(tg) ?: "?");
    return true;
}

/* Before anything is written: the file's directory takes a new file. */
static bool em_health(target *t, const char **endpoint, rerr *e)
{
    *endpoint = t->addr;
    const char *out = output_of(t);
    if (!out || !*out)
        return rerr_set(e, DIAG_PLAN_SHAPE, "target %s: no output file", t->name);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (access(dir, W_OK | X_OK) != 0)
        return rerr_set(e, DIAG_PREFLIGHT_PERMISSION, "target %s: cannot write a file in %s "
                        "(for %s): %s", t->name, dir, out, strerror(errno));
    return true;
}

/* The file's bytes from the plan's write_file step of this target. */
static const char *step_content(const target *t)
{
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(t->env->plan, "steps"), i, s) {
        const char *tn = json_string_value(json_object_get(s, "target"));
        const char *op = json_string_value(json_object_get(s, "op"));
        if (tn && op && !strcmp(tn, t->name) && !strcmp(op, "write_file"))
            return json_string_value(json_object_get(s, "content"));
    }
    return NULL;
}

static bool em_read(target *tg, target_read *rd, rerr *e)
{
    cfg_target *t = (cfg_target *)tg;
    cfg_entries_free(t);
    const char *out = output_of(tg);
    const char *content = step_content(tg);
    if (!out || !*out || !content)
        return rerr_set(e, DIAG_PLAN_SHAPE, "target %s: the plan gives no output or no "
                        "write_file step with the file's content (a plan from an older rlc?)",
                        tg->name);
    char what[160];
    snprintf(what, sizeof what, "(%s file)", tg->kind->name);
    return cfg_file_read(t, what, out, content, strlen(content), rd, e);
}

static bool em_restore(target *tg, const json_t *entry, bool stale, rerr *e)
{
    (void)stale;
    return cfg_file_restore(tg, entry, NULL, e);
}

static bool em_apply(target *tg, size_t *written, rerr *e)
{
    cfg_target *t = (cfg_target *)tg;
    cfg_entry *x = t->nent ? &t->ent[0] : NULL;
    if (!x || !x->changed)
        return true;
    if (!fault_point("apply.gateway", e) || !cfg_file_unchanged(tg, x, e) ||
        !cfg_put_file(tg, x->key, x->newval, x->newlen, e))
        return false;
    if (written)
        (*written)++;
    return true;
}

/* Why the file is not one rlc wrote (its first line's digest does not
 * cover the rest), or NULL. */
static const char *file_problem(const target *t, const char *cur, size_t len)
{
    char head[128];
    int n = snprintf(head, sizeof head, "# rlc %s file, sha256 of the lines below: ",
                     t->kind->name);
    if (len < (size_t)n + DIGEST_HEX_LEN + 1 || memcmp(cur, head, (size_t)n) ||
        cur[n + DIGEST_HEX_LEN] != '\n')
        return "not the file rlc writes";
    char hex[DIGEST_HEX_LEN + 1];
    size_t body = (size_t)n + DIGEST_HEX_LEN + 1;
    digest_sha256_hex(cur + body, len - body, hex);
    if (memcmp(hex, cur + n, DIGEST_HEX_LEN))
        return "changed since rlc wrote it";
    return NULL;
}

static bool em_status(target *t, json_t *targets, size_t *ndrift, rerr *e)
{
    (void)e;
    const char *out = output_of(t);
    json_t *tj = json_pack("{s:s,s:s,s:s}", "name", t->name, "kind", t->kind->name, "address",
                           out ? out : "?");
    json_array_append_new(targets, tj);
    json_t *drift = json_array();
    size_t len = 0;
    char *cur = out ? statedir_read(out, &len) : NULL;
    const char *why = cur ? file_problem(t, cur, len) : "file missing";
    if (why)
        json_array_append_new(drift, json_pack("{s:s,s:s}", "key", out ? out : "?", "what",
                                               why));
    free(cur);
    json_object_set_new(tj, "tenants", json_integer(0));
    *ndrift += json_array_size(drift);
    json_object_set_new(tj, "drift", drift);
    return true;
}

#define EMIT_KIND(NAME)                                                                    \
    {                                                                                      \
        .name = NAME, .record = "files", .group = "file", .verify_how = "by reading back", \
        .order = 1, .max = 8, .json_tenants = false, .lock_scope = TLOCK_NONE,             \
        .create = em_create, .override = em_override, .connect = em_connect,               \
        .health = em_health, .read = em_read, .changes = cfg_changes,                      \
        .checkpoint = cfg_checkpoint, .ck_noop = cfg_ck_noop, .apply = em_apply,           \
        .verify = cfg_file_verify, .restore = em_restore, .diff = cfg_diff,                      \
        .status = em_status, .free = em_free,                                              \
    }

const target_kind target_envoy_ratelimit = EMIT_KIND("envoy_ratelimit");
const target_kind target_limitador = EMIT_KIND("limitador");
