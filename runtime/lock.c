/* lock.c - the deploy lock.  See lock.h. */
#include "lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "digest.h"
#include "rand.h"
#include "statedir.h"
#include "xalloc.h"

/* Compare-and-delete and compare-and-extend: the value starts with
 * "<token>|". */
static const char release_lua[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then "
    "  return redis.call('DEL', KEYS[1]) end return 0";
static const char renew_lua[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then "
    "  return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";

static void lock_key(const char *ns, char *out, size_t n)
{
    snprintf(out, n, "%s:deploy:lock", ns);
}

int lock_ttl_ms(void)
{
    const char *v = getenv("RLC_LOCK_TTL_MS");
    int t = v ? atoi(v) : 0;
    return t > 0 ? t : 30000;
}

static redisReply *eval(rstore *s, const char *script, const char *key, const char *a1,
                        const char *a2, rerr *e)
{
    const char *argv[6] = {"EVAL", script, "1", key, a1, a2};
    return rstore_cmd(s, key, strlen(key), a2 ? 6 : 5, argv, NULL, e);
}

/* "alice@build-7 pid 4242, run 2026...-ab12, 12.3 s ago" from a lock value. */
static void describe_holder(const char *value, long long pttl, int ttl, char *out, size_t n)
{
    const char *bar = strchr(value, '|');
    json_t *j = bar ? json_loads(bar + 1, 0, NULL) : NULL;
    if (!j) {
        snprintf(out, n, "an unknown holder (value '%.60s')", value);
        return;
    }
    long long since = json_integer_value(json_object_get(j, "since_ms"));
    double age = since ? (double)(statedir_now_ms() - since) / 1000.0 : -1;
    snprintf(out, n, "%s@%s pid %lld, run %s, taken %.1f s ago (expires in %.1f s unless "
             "renewed, lifetime %.1f s)",
             json_string_value(json_object_get(j, "user")) ?: "?",
             json_string_value(json_object_get(j, "host")) ?: "?",
             (long long)json_integer_value(json_object_get(j, "pid")),
             json_string_value(json_object_get(j, "run")) ?: "?", age,
             pttl >= 0 ? (double)pttl / 1000.0 : 0.0, ttl / 1000.0);
    json_decref(j);
}

bool lock_peek(rstore *s, const char *ns, bool *present, char **holder, long long *pttl,
               rerr *e)
{
    char key[512];
    lock_key(ns, key, sizeof key);
    *present = false;
    *holder = NULL;
    *pttl = -2;
    const char *g[2] = {"GET", key};
    redisReply *r = rstore_cmd(s, key, strlen(key), 2, g, NULL, e);
    if (!r)
        return false;
    if (r->type == REDIS_REPLY_STRING) {
        *present = true;
        *holder = xstrdup(r->str);
    }
    freeReplyObject(r);
    const char *p[2] = {"PTTL", key};
    r = rstore_cmd(s, key, strlen(key), 2, p, NULL, e);
    if (!r)
        return false;
    if (r->type == REDIS_REPLY_INTEGER)
        *pttl = r->integer;
    freeReplyObject(r);
    return true;
}

bool lock_acquire(dlock *l, rstore *s, const char *ns, const char *run_id, const char *token,
                  rerr *e)
{
    memset(l, 0, sizeof *l);
    l->s = s;
    l->ttl_ms = lock_ttl_ms();
    lock_key(ns, l->key, sizeof l->key);
    if (token) {
        snprintf(l->token, sizeof l->token, "%s", token);
    } else {
        unsigned char r[16];
        if (!rand_fill(r, sizeof r))
            return rerr_set(e, DIAG_LOCK_HELD, "no random bytes for the lock token");
        digest_hex(r, sizeof r, l->token);
    }
    json_t *h = json_object();
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    const char *user = getenv("USER");
    json_object_set_new(h, "user", json_string(user ? user : "?"));
    json_object_set_new(h, "host", json_string(host));
    json_object_set_new(h, "pid", json_integer(getpid()));
    json_object_set_new(h, "run", json_string(run_id));
    json_object_set_new(h, "since_ms", json_integer(statedir_now_ms()));
    char *hj = digest_canonical_json(h);
    json_decref(h);
    char value[1024], px[32];
    snprintf(value, sizeof value, "%s|%s", l->token, hj ? hj : "{}");
    free(hj);
    snprintf(px, sizeof px, "%d", l->ttl_ms);
    const char *argv[6] = {"SET", l->key, value, "NX", "PX", px};
    redisReply *r = rstore_cmd(s, l->key, strlen(l->key), 6, argv, NULL, e);
    if (!r)
        return false;
    bool got = rreply_is(r, "OK");
    if (r->type == REDIS_REPLY_ERROR) {
        rerr_set(e, DIAG_STORE_REPLY, "SET %s NX: %s", l->key, r->str);
        freeReplyObject(r);
        return false;
    }
    freeReplyObject(r);
    if (got) {
        l->held = true;
        l->renewed_ms = statedir_now_ms();
        return true;
    }
    if (token) {
        /* Recovering our own run: the lock may still carry our token. */
        bool present;
        char *cur;
        long long pttl;
        if (lock_peek(s, ns, &present, &cur, &pttl, e) && present &&
            !strncmp(cur, l->token, strlen(l->token)) && cur[strlen(l->token)] == '|') {
            free(cur);
            l->held = true;
            return lock_renew(l, e);
        }
        free(cur);
    }
    bool present;
    char *cur;
    long long pttl;
    if (!lock_peek(s, ns, &present, &cur, &pttl, e))
        return false;
    char who[600];
    describe_holder(present ? cur : "", pttl, l->ttl_ms, who, sizeof who);
    free(cur);
    return rerr_set(e, DIAG_LOCK_HELD, "another deploy holds the lock %s: %s", l->key, who);
}

bool lock_renew(dlock *l, rerr *e)
{
    char px[32];
    snprintf(px, sizeof px, "%d", l->ttl_ms);
    redisReply *r = eval(l->s, renew_lua, l->key, l->token, px, e);
    if (!r)
        return false;
    bool ok = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    if (r->type == REDIS_REPLY_ERROR)
        rerr_set(e, DIAG_STORE_REPLY, "renewing %s: %s", l->key, r->str);
    else if (!ok)
        rerr_set(e, DIAG_LOCK_LOST, "the deploy lock %s expired or was taken over", l->key);
    freeReplyObject(r);
    if (ok)
        l->renewed_ms = statedir_now_ms();
    else
        l->held = false;
    return ok;
}

bool lock_keepalive(dlock *l, rerr *e)
{
    if (statedir_now_ms() - l->renewed_ms < l->ttl_ms / 3)
        return true;
    return lock_renew(l, e);
}

static bool release_key(rstore *s, const char *key, const char *token, bool *released,
                        rerr *e)
{
    redisReply *r = eval(s, release_lua, key, token, NULL, e);
    if (!r)
        return false;
    bool ok = r->type != REDIS_REPLY_ERROR;
    if (!ok)
        rerr_set(e, DIAG_STORE_REPLY, "releasing %s: %s", key, r->str);
    *released = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return ok;
}

bool lock_release_token(rstore *s, const char *ns, const char *token, bool *released, rerr *e)
{
    char key[512];
    lock_key(ns, key, sizeof key);
    return release_key(s, key, token, released, e);
}

bool lock_release(dlock *l, rerr *e)
{
    if (!l->s || !l->held)
        return true;
    bool released;
    if (!release_key(l->s, l->key, l->token, &released, e))
        return false;
    l->held = false;
    if (!released)
        return rerr_set(e, DIAG_LOCK_LOST, "the deploy lock %s was no longer ours at release",
                        l->key);
    return true;
}
