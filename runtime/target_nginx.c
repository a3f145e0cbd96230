/* target_nginx.c - the nginx target kind (SPEC.md 7.10): the generated Lua snippet
 * (stdlib/nginx_access.lua with the policy's values and the target's
 * identity sources filled in) written
 * atomically to the target's `output`, checked with `nginx -t` and loaded
 * with `nginx -s reload`.  The nginx command is $RLC_NGINX (default
 * "nginx"), so tests and hosts with their own -p/-c can say how to reach
 * their nginx.  One entry per target: the file; its checkpoint is the old
 * file (or its absence), which a rollback writes back and reloads. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "digest.h"
#include "embed.h"
#include "fault.h"
#include "plan_gateway.h"
#include "cfg_store.h"
#include "statedir.h"
#include "target_url.h"
#include "xalloc.h"

extern const target_kind target_nginx;

/* The snippet calls a redis target of the plan (settings.redis): its url
 * and password settings travel with the nginx target's description. */
static target *ng_create(const json_t *tj, const json_t *all, const target_env *env, rerr *e)
{
    (void)e;
    target *t = cfg_create(sizeof(cfg_target), &target_nginx, tj, env);
    const char *rn = json_string_value(json_object_get(json_object_get(tj, "settings"),
                                                       "redis"));
    size_t i;
    json_t *o;
    json_array_foreach(all, i, o)
        if (rn && !strcmp(json_string_value(json_object_get(o, "name")) ?: "", rn))
            json_object_set(t->desc, "redis_target", json_object_get(o, "settings"));
    return t;
}

static void ng_free(target *tg)
{
    cfg_clear((cfg_target *)tg);
    free(tg);
}

static bool ng_override(target *tg, const char *spec, rerr *e)
{
    (void)spec;
    return rerr_set(e, DIAG_STORE_URL, "--target %s: an nginx target has no address to "
                    "override (its snippet calls its redis target)", tg->name);
}

static bool ng_connect(target *tg, rerr *e)
{
    (void)e;
    snprintf(tg->addr, sizeof tg->addr, "%s", json_string_value(json_object_get(
                 json_object_get(tg->desc, "settings"), "output")) ?: "?");
    return true;
}

static const char *nginx_cmd(void)
{
    const char *c = getenv("RLC_NGINX");
    return c && *c ? c : "nginx";
}

/* Runs "$RLC_NGINX ARGS"; the end of its output (at most n - 1 bytes)
 * into out. */
static bool run_nginx(const char *args, char *out, size_t n)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", nginx_cmd(), args);
    FILE *p = popen(cmd, "r");
    out[0] = '\0';
    if (!p)
        return false;
    char all[8192];
    size_t got = fread(all, 1, sizeof all - 1, p);
    all[got] = '\0';
    /* The rest unread would block the command on a full pipe. */
    char skip[4096];
    while (fread(skip, 1, sizeof skip, p) > 0)
        ;
    int st = pclose(p);
    const char *tail = got >= n ? all + got - (n - 1) : all;
    size_t tl = strlen(tail);
    if (tl >= n)
        tl = n - 1;
    memcpy(out, tail, tl);
    out[tl] = '\0';
    for (size_t k = strlen(out); k && (out[k - 1] == '\n' || out[k - 1] == '\r'); k--)
        out[k - 1] = '\0';
    return st == 0;
}

static bool ng_health(target *t, const char **endpoint, rerr *e)
{
    *endpoint = t->addr;
    char out[512];
    if (!run_nginx("-t", out, sizeof out))
        return rerr_set(e, DIAG_PREFLIGHT_HEALTH, "target %s: '%s -t' fails before the deploy: "
                        "%s", t->name, nginx_cmd(), out);
    return true;
}

/* Replaces every @NAME@ of the template. */
static void fill(buf *b, const char *tpl, size_t len, const json_t *vals)
{
    const char *p = tpl, *end = tpl + len;
    while (p < end) {
        const char *at = memchr(p, '@', (size_t)(end - p));
        if (!at) {
            buf_append(b, p, (size_t)(end - p));
            break;
        }
        buf_append(b, p, (size_t)(at - p));
        const char *close = memchr(at + 1, '@', (size_t)(end - at - 1));
        char name[64];
        size_t nl = close ? (size_t)(close - at - 1) : 0;
        if (close && nl > 0 && nl < sizeof name) {
            memcpy(name, at + 1, nl);
            name[nl] = '\0';
            const char *v = json_string_value(json_object_get(vals, name));
            if (v) {
                buf_puts(b, v);
                p = close + 1;
                continue;
            }
        }
        buf_putc(b, '@');
        p = at + 1;
    }
}

/* A Lua string literal body: the values are names and digests, but a
 * policy name may hold a quote. */
static void lua_safe(char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            *s = '_';
}

/* A Lua string literal of any bytes: everything but a few plain
 * characters as a decimal escape, so no value can end the literal. */
static void lua_str(buf *b, const char *s)
{
    buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '_' || *p == '-' || *p == '.' || *p == ' ')
            buf_putc(b, (char)*p);
        else
            buf_printf(b, "\\%03u", *p);
    }
    buf_putc(b, '"');
}

/* One source (plan_gateway.h) as the snippet's table {var = ...} or
 * {lit = ...}, with kind = "group"/"key" for a path level. */
static bool source_lua(buf *b, const target *tg, const char *what, const char *kind,
                       const char *src, bool var_only, rerr *e)
{
    const char *var = NULL, *why = NULL;
    gw_source_kind k = gw_source(src, &var, &why);
    if (k == GW_BAD || (var_only && k != GW_VARIABLE))
        return rerr_set(e, DIAG_PLAN_SHAPE, "target %s: %s \"%s\" is not %s: %s", tg->name,
                        what, src, var_only ? "an nginx variable" : "a source",
                        k == GW_BAD ? why : "a literal");
    buf_puts(b, "{");
    if (kind) {
        buf_puts(b, "kind = ");
        lua_str(b, kind);
        buf_puts(b, ", ");
    }
    buf_puts(b, k == GW_VARIABLE ? "var = " : "lit = ");
    lua_str(b, k == GW_VARIABLE ? var : src);
    buf_puts(b, "}");
    return true;
}

/* The identity sources of the target's settings as Lua: the tenant's
 * table, the list of path levels, and the cost's table or nil.  A plan
 * from an older rlc has no tenant_from: it is refused, never read as
 * "take the tenant from a header". */
static bool sources_lua(const target *tg, const json_t *st, buf *tn, buf *path, buf *cost,
                        rerr *e)
{
    const char *tsrc = json_string_value(json_object_get(st, "tenant_from"));
    if (!tsrc)
        return rerr_set(e, DIAG_PLAN_SHAPE, "target %s: the plan names no tenant_from for the "
                        "nginx snippet (a plan from an older rlc?); recompile the policy with "
                        "tenant_from set (SPEC.md 2.8)", tg->name);
    if (!source_lua(tn, tg, "tenant_from", NULL, tsrc, false, e))
        return false;
    const json_t *levels = json_object_get(st, "path_from");
    if (levels && (!json_is_array(levels) || json_array_size(levels) > GW_PATH_MAX_LEVELS))
        return rerr_set(e, DIAG_PLAN_SHAPE, "target %s: path_from is not a list of at most %d "
                        "levels", tg->name, GW_PATH_MAX_LEVELS);
    buf_puts(path, "{");
    size_t i;
    const json_t *lv;
    json_array_foreach(levels, i, lv) {
        const char *s = json_string_value(lv), *kind, *src, *why;
        if (!s)
            return rerr_set(e, DIAG_PLAN_SHAPE, "target %s: path_from holds a non-string",
                            tg->name);
        if (!gw_level(s, &kind, &src, &why))
            return rerr_set(e, DIAG_PLAN_SHAPE, "target %s: path_from level \"%s\": %s",
                            tg->name, s, why);
        if (i)
            buf_puts(path, ", ");
        if (!source_lua(path, tg, "path_from level", kind, src, false, e))
            return false;
    }
    buf_puts(path, "}");
    const char *csrc = json_string_value(json_object_get(st, "cost_from"));
    if (!csrc)
        buf_puts(cost, "nil");
    else if (!source_lua(cost, tg, "cost_from", NULL, csrc, true, e))
        return false;
    return true;
}

/* One rule as a line "ID QUOTA WINDOW UNIT" of the snippet's rule table:
 * what the RateLimit-Policy field says of it (SPEC.md 7.10).  QUOTA is
 * what `remaining` counts down from: the burst of a bucket (token_bucket,
 * gcra), the count of a window, the max of a concurrency rule; WINDOW is
 * in whole seconds, rounded up (0 for concurrency: no window); UNIT r
 * (requests) or c (concurrent requests).  Ids are 16 hex digits (SPEC.md
 * 5.5): anything else is left out, so no plan text reaches the Lua. */
static void rule_line(buf *b, const json_t *r)
{
    const char *id = json_string_value(json_object_get(r, "id"));
    if (!id || strlen(id) != 16 || strspn(id, "0123456789abcdef") != 16)
        return;
    const char *kind = json_string_value(json_object_get(r, "kind")) ?: "";
    const char *alg = json_string_value(json_object_get(r, "algorithm")) ?: "";
    long long q, w = 0;
    if (!strcmp(kind, "concurrency")) {
        q = json_integer_value(json_object_get(r, "max"));
    } else {
        bool bucket = !strcmp(alg, "token_bucket") || !strcmp(alg, "gcra");
        q = json_integer_value(json_object_get(r, bucket ? "burst" : "count"));
        w = (json_integer_value(json_object_get(r, "window_ms")) + 999) / 1000;
    }
    buf_printf(b, "%s %lld %lld %c\n", id, q, w, !strcmp(kind, "concurrency") ? 'c' : 'r');
}

/* Every rule of the plan (its tenants and tenant *) as rule_line text. */
static void rules_text(const target_env *env, buf *b)
{
    size_t i, k;
    const json_t *t, *r;
    json_array_foreach(env->tenants, i, t)
        json_array_foreach(json_object_get(t, "rules"), k, r)
            rule_line(b, r);
    json_array_foreach(json_object_get(json_object_get(env->plan, "tenant_template"), "rules"),
                       k, r)
        rule_line(b, r);
}

static bool ng_read(target *tg, target_read *rd, rerr *e)
{
    cfg_target *t = (cfg_target *)tg;
    const json_t *plan = tg->env->plan;
    cfg_entries_free(t);
    json_t *st = json_object_get(tg->desc, "settings");
    const char *out = json_string_value(json_object_get(st, "output"));
    const json_t *rt = json_object_get(tg->desc, "redis_target");
    if (!out || !*out || !rt)
        return rerr_set(e, DIAG_PLAN_SHAPE, "target %s: nginx needs output and a redis target",
                        tg->name);
    snprintf(tg->addr, sizeof tg->addr, "%s", out);
    rurl u;
    if (!target_url_from_setting(json_object_get(rt, "url"), &u, e)) {
        rerr_prefix(e, "target %s (the redis target its snippet calls)", tg->name);
        return false;
    }
    const json_t *pw = json_object_get(rt, "password");
    const char *pw_env = json_string_value(json_object_get(pw, "env"));
    if (pw && !pw_env)
        return rerr_set(e, DIAG_SECRET, "target %s: the snippet reads the Redis password from "
                        "an environment variable only (nginx's `env` directive passes it): "
                        "give the redis target password = env(\"VAR\")", tg->name);
    const embedded_file *tpl = embedded_find("nginx_access.lua");
    if (!tpl)
        return rerr_set(e, DIAG_PLAN_SHAPE, "this build lacks the nginx snippet template");
    buf tsrc, psrc, csrc;
    buf_init(&tsrc, 4096);
    buf_init(&psrc, 16384);
    buf_init(&csrc, 4096);
    if (!sources_lua(tg, st, &tsrc, &psrc, &csrc, e)) {
        buf_free(&tsrc);
        buf_free(&psrc);
        buf_free(&csrc);
        return false;
    }
    const json_t *pol = json_object_get(plan, "policy");
    char host[300], port[16], status[16], tmo[16], pol_name[256];
    snprintf(host, sizeof host, "%s", u.host);
    lua_safe(host);
    snprintf(port, sizeof port, "%d", u.port);
    json_t *sv = json_object_get(st, "status");
    snprintf(status, sizeof status, "%lld",
             json_is_integer(sv) ? (long long)json_integer_value(sv) : 429LL);
    json_t *to = json_object_get(rt, "timeout_ms");
    snprintf(tmo, sizeof tmo, "%lld", json_is_integer(to) ? (long long)json_integer_value(to)
                                                         : 2000LL);
    snprintf(pol_name, sizeof pol_name, "%s",
             json_string_value(json_object_get(pol, "name")) ?: "");
    lua_safe(pol_name);
    const char *ose = json_string_value(json_object_get(pol, "on_store_error"));
    const char *ts = json_string_value(json_object_get(pol, "time_source"));
    json_t *vals = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "POLICY", pol_name,
                             "PLAN", json_string_value(json_object_get(plan, "plan_digest")) ?: "",
                             "NS", json_string_value(json_object_get(pol, "namespace")) ?: "rl",
                             "HOST", host, "PORT", port, "TIMEOUT_MS", tmo, "STATUS", status,
                             "FAIL_OPEN", ose && !strcmp(ose, "fail_closed") ? "false" : "true",
                             "CLIENT_TIME", ts && !strcmp(ts, "client") ? "true" : "false",
                             "PASSWORD_ENV", pw_env ? pw_env : "");
    char tname[sizeof tg->name];
    snprintf(tname, sizeof tname, "%s", tg->name);
    lua_safe(tname);
    json_t *hv = json_object_get(st, "ratelimit_headers");
    json_object_set_new(vals, "TARGET", json_string(tname));
    json_object_set_new(vals, "HEADERS", json_string(json_is_false(hv) ? "false" : "true"));
    buf rules;
    buf_init(&rules, BUF_DEFAULT_MAX);
    rules_text(tg->env, &rules);
    json_object_set_new(vals, "RULES", json_string(buf_str(&rules)));
    buf_free(&rules);
    json_object_set_new(vals, "TENANT_SRC", json_string(buf_str(&tsrc)));
    json_object_set_new(vals, "PATH_SRC", json_string(buf_str(&psrc)));
    json_object_set_new(vals, "COST_SRC", json_string(buf_str(&csrc)));
    buf_free(&tsrc);
    buf_free(&psrc);
    buf_free(&csrc);
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    fill(&b, tpl->data, tpl->len, vals);
    json_decref(vals);
    t->ent = xcalloc(1, sizeof *t->ent);
    t->nent = 1;
    cfg_entry *x = &t->ent[0];
    x->tenant = xstrdup("(nginx snippet)");
    x->key = xstrdup(out);
    x->newlen = b.len;
    x->newval = xmalloc(b.len + 1);
    memcpy(x->newval, buf_str(&b), b.len);
    x->newval[b.len] = '\0';
    buf_free(&b);
    size_t len = 0;
    errno = 0;
    char *old = statedir_read(out, &len);
    if (!old && errno != ENOENT)
        return rerr_set(e, DIAG_STATE_IO, "target %s: cannot read %s: %s", tg->name, out,
                        strerror(errno));
    x->oldval = old;
    x->oldlen = len;
    x->changed = !old || len != x->newlen || memcmp(old, x->newval, len);
    cfg_count(t, rd);
    return true;
}

/* The quoted text after `lead` in s, into out; false when absent. */
static bool quoted_after(const char *s, const char *lead, char *out, size_t n)
{
    const char *p = strstr(s, lead);
    if (!p)
        return false;
    p += strlen(lead);
    const char *q = strchr(p, '"');
    if (!q || (size_t)(q - p) >= n)
        return false;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return true;
}

/* Whether the output of a failed `nginx -s reload` says that no nginx
 * runs, and why, into why.  These are the three messages of nginx's
 * ngx_signal_process when the pid file its configuration names cannot
 * lead to a master: the file is absent (open() fails with errno 2), empty
 * (`nginx -t` leaves an empty one behind), or names a process that does
 * not exist (kill() fails with errno 3).  nginx prints errno as a number,
 * so this does not depend on the locale.  Any other failure (a pid file
 * that cannot be read, a kill() refused for permission, a pid that is not
 * a number, a configuration error) is a real failure of the reload. */
static bool not_running(const char *out, char *why, size_t n)
{
    char path[360], pid[32];
    const char *p;
    if ((p = strstr(out, "open() \"")) && strstr(p, "\" failed (2: ") &&
        quoted_after(p, "open() \"", path, sizeof path)) {
        snprintf(why, n, "its pid file %s does not exist", path);
        return true;
    }
    if (quoted_after(out, "invalid PID number \"\" in \"", path, sizeof path)) {
        snprintf(why, n, "its pid file %s is empty", path);
        return true;
    }
    if ((p = strstr(out, "kill(")) && strstr(p, ", 1) failed (3: ")) {
        size_t k = 0;
        for (p += 5; *p >= '0' && *p <= '9' && k + 1 < sizeof pid; p++)
            pid[k++] = *p;
        pid[k] = '\0';
        if (k && !strncmp(p, ", 1) failed (3: ", 16)) {
            snprintf(why, n, "its pid file names process %s, which does not exist", pid);
            return true;
        }
    }
    return false;
}

/* `nginx -t` (when check), then `nginx -s reload`.  When nginx is not
 * running there is nothing to reload: the file is in place and checked,
 * and nginx reads it when it starts, so the reload is skipped and the
 * target's note says so (what is the outcome, not an error). */
static bool test_and_reload(target *t, bool check, rerr *e)
{
    char out[1024];
    if (check && !run_nginx("-t", out, sizeof out))
        return rerr_set(e, DIAG_GATEWAY_NGINX, "target %s: '%s -t' refuses the configuration "
                        "with the new snippet: %s", t->name, nginx_cmd(), out);
    if (!run_nginx("-s reload", out, sizeof out)) {
        char why[440];
        if (!not_running(out, why, sizeof why))
            return rerr_set(e, DIAG_GATEWAY_NGINX, "target %s: '%s -s reload' failed: %s",
                            t->name, nginx_cmd(), out);
        snprintf(t->note, sizeof t->note, "reload skipped: nginx is not running (%.380s); the "
                 "snippet is written%s, and nginx loads it when it starts", why,
                 check ? " and 'nginx -t' accepts it" : "");
        target_say(t, "%s", t->note);
        return true;
    }
    t->note[0] = '\0';
    return true;
}

static bool ng_apply(target *tg, size_t *written, rerr *e)
{
    cfg_target *t = (cfg_target *)tg;
    cfg_entry *x = t->nent ? &t->ent[0] : NULL;
    if (!x || !x->changed)
        return true;
    if (!fault_point("apply.gateway", e) || !cfg_file_unchanged(tg, x, e) ||
        !cfg_put_file(tg, x->key, x->newval, x->newlen, e) ||
        !test_and_reload(tg, true, e))
        return false;
    if (written)
        (*written)++;
    return true;
}

/* The old file was accepted before: reload without the -t gate, so a
 * restore is never refused. */
static bool ng_restore(target *tg, const json_t *entry, bool stale, rerr *e)
{
    (void)stale;
    if (!cfg_file_restore(tg, entry, NULL, e))
        return false;
    return !json_array_size(json_object_get(entry, "keys")) || test_and_reload(tg, false, e);
}

/* All the output of "$RLC_NGINX ARGS" into b (at most its max). */
static bool slurp_nginx(const char *args, buf *b)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", nginx_cmd(), args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, p)) > 0)
        buf_append(b, chunk, got);
    return pclose(p) == 0;
}

/* The argument of the first `pid` directive in the main context of the
 * configuration `nginx -T` prints (the main file comes first; included
 * files follow, each after a "# configuration file" comment), into out. */
static bool pid_directive(const char *conf, char *out, size_t n)
{
    int depth = 0;
    bool stmt_start = true;
    for (const char *p = conf; *p;) {
        if (*p == '#') {
            p += strcspn(p, "\n");
            continue;
        }
        if (*p == '{' || *p == '}' || *p == ';') {
            depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
            stmt_start = true;
            p++;
            continue;
        }
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            p++;
            continue;
        }
        size_t w = strcspn(p, " \t\r\n;{}#");
        if (stmt_start && depth == 0 && w == 3 && !strncmp(p, "pid", 3)) {
            p += 3;
            p += strspn(p, " \t\r\n");
            bool q = *p == '"' || *p == '\'';
            char quote = *p;
            if (q)
                p++;
            size_t l = q ? strcspn(p, quote == '"' ? "\"" : "'") : strcspn(p, " \t\r\n;");
            if (!l || l >= n)
                return false;
            memcpy(out, p, l);
            out[l] = '\0';
            return true;
        }
        stmt_start = false;
        p += w ? w : 1;
    }
    return false;
}

/* Whether the nginx of $RLC_NGINX runs, for `rlc status` (which sends no
 * signal): the pid file its configuration names (else the --pid-path
 * nginx was built with), read on this host.  1 running, 0 not, -1 cannot
 * tell; why says which file and what it holds. */
static int ng_running(char *why, size_t n)
{
    buf b;
    buf_init(&b, 16u << 20);
    char path[512] = "", what[64] = "";
    int r = -1;
    if (!slurp_nginx("-T", &b) || !b.len) {
        snprintf(why, n, "'%s -T' fails", nginx_cmd());
        goto out;
    }
    if (!pid_directive(buf_str(&b), path, sizeof path)) {
        buf_reset(&b);
        slurp_nginx("-V", &b);
        const char *pp = strstr(buf_str(&b), "--pid-path=");
        size_t l = pp ? strcspn(pp + 11, " \n") : 0;
        if (!l || l >= sizeof path) {
            snprintf(why, n, "no pid directive, and nginx -V names no --pid-path");
            goto out;
        }
        memcpy(path, pp + 11, l);
        path[l] = '\0';
    }
    if (path[0] != '/') {
        snprintf(why, n, "its pid file %.400s is relative to nginx's prefix", path);
        goto out;
    }
    size_t len = 0;
    errno = 0;
    char *pidtext = statedir_read(path, &len);
    if (!pidtext) {
        r = errno == ENOENT ? 0 : -1;
        snprintf(why, n, "its pid file %.400s %s", path,
                 errno == ENOENT ? "does not exist" : "cannot be read");
        goto out;
    }
    char *end = NULL;
    long pid = strtol(pidtext, &end, 10);
    free(pidtext);
    if (end == pidtext || pid <= 0) {
        r = 0;
        snprintf(why, n, "its pid file %.400s is empty", path);
        goto out;
    }
    /* Signal 0 sends nothing: it only asks whether the process exists. */
    r = kill((pid_t)pid, 0) == 0 || errno == EPERM;
    snprintf(what, sizeof what, "%ld", pid);
    snprintf(why, n, r ? "master process %s (pid file %.400s)"
                       : "its pid file %.400s names process %s, which does not exist",
             r ? what : path, r ? path : what);
out:
    buf_free(&b);
    return r;
}

static bool ng_status(target *t, json_t *targets, size_t *ndrift, rerr *e)
{
    (void)e;
    const char *out = json_string_value(json_object_get(json_object_get(t->desc, "settings"),
                                                        "output"));
    json_t *tj = json_pack("{s:s,s:s,s:s}", "name", t->name, "kind", "nginx", "address",
                           out ? out : "?");
    json_array_append_new(targets, tj);
    json_t *drift = json_array();
    size_t len = 0;
    char *cur = out ? statedir_read(out, &len) : NULL;
    if (!cur)
        json_array_append_new(drift, json_pack("{s:s,s:s}", "key", out ? out : "?", "what",
                                               "snippet missing"));
    else if (len < 24 || memcmp(cur, "-- rlc nginx snippet: ", 22))
        json_array_append_new(drift, json_pack("{s:s,s:s}", "key", out, "what",
                                               "not the snippet rlc writes"));
    free(cur);
    json_object_set_new(tj, "tenants", json_integer(0));
    char why[512];
    int run = ng_running(why, sizeof why);
    json_object_set_new(tj, "nginx", json_pack("{s:o,s:s}", "running",
                                               run < 0 ? json_null() : json_boolean(run),
                                               "detail", why));
    *ndrift += json_array_size(drift);
    json_object_set_new(tj, "drift", drift);
    return true;
}

const target_kind target_nginx = {
    .name = "nginx",
    .record = "gateways",
    .group = "etcd/http",
    .verify_how = "by reading back",
    .order = 1,
    .max = 8,
    .json_tenants = true,
    .lock_scope = TLOCK_NONE,
    .create = ng_create,
    .override = ng_override,
    .connect = ng_connect,
    .health = ng_health,
    .read = ng_read,
    .changes = cfg_changes,
    .checkpoint = cfg_checkpoint,
    .ck_noop = cfg_ck_noop,
    .apply = ng_apply,
    .verify = cfg_file_verify,
    .restore = ng_restore,
    .diff = cfg_diff,
    .status = ng_status,
    .free = ng_free,
};
