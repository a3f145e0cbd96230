/* target_nginx.c - the nginx target kind (SPEC.md 7.10): the generated Lua snippet
 * (stdlib/nginx_access.lua with the policy's values and the target's
 * identity sources filled in) written
 * atomically to the target's `output`, checked with `nginx -t` and loaded
 * with `nginx -s reload`.  The nginx command is $RLC_NGINX (default
 * "nginx"), so tests and hosts with their own -p/-c can say how to reach
 * their nginx.  One entry per target: the file; its checkpoint is the old
 * file (or its absence), which a rollback writes back and reloads. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "buf.h"
#include "digest.h"
#include "embed.h"
#include "fault.h"
#include "httpc.h"
#include "plan_gateway.h"
#include "plan_key.h"
#include "rand.h"
#include "cfg_store.h"
#include "secret.h"
#include "rules.h"
#include "sim.h"
#include "statedir.h"
#include "target_url.h"
#include "xalloc.h"

extern const target_kind target_nginx;

/* The post-deploy check's token is this long in hex. */
#define CHECK_TOKEN_HEX 32

typedef struct ng_target {
    cfg_target cfg;
    char token[CHECK_TOKEN_HEX + 1];   /* the check's token, "" when none */
} ng_target;

/* The snippet calls a redis target of the plan (settings.redis): its url
 * and password settings travel with the nginx target's description. */
static target *ng_create(const json_t *tj, const json_t *all, const target_env *env, rerr *e)
{
    (void)e;
    target *t = cfg_create(sizeof(ng_target), &target_nginx, tj, env);
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

/* A snippet that verifies a TLS store needs the CA in nginx's
 * configuration: without lua_ssl_trusted_certificate every handshake
 * fails and every request is a store error. */
static bool trusts_a_ca(const target *t, rerr *e)
{
    const json_t *rt = json_object_get(t->desc, "redis_target");
    rurl u;
    if (!rt || !target_url_from_setting(json_object_get(rt, "url"), &u, e) ||
        !target_url_tls_settings(rt, &u, e)) {
        rerr_clear(e);   /* ng_read reports a bad URL, with its context */
        return true;
    }
    secret_wipe(u.pass, sizeof u.pass);
    secret_wipe(u.tls.key_pass, sizeof u.tls.key_pass);
    if (!u.tls.on || u.tls.no_verify)
        return true;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s -T 2>/dev/null", nginx_cmd());
    FILE *p = popen(cmd, "r");
    bool found = false;
    char line[4096];
    while (p && fgets(line, sizeof line, p))
        if (!found && strstr(line, "lua_ssl_trusted_certificate") &&
            line[strspn(line, " \t")] != '#')
            found = true;
    if (p)
        pclose(p);
    if (!found)
        return rerr_set(e, DIAG_TLS_CONFIG, "target %s: its redis target is rediss:// with "
                        "verification, but nginx's configuration ('%s -T') has no "
                        "lua_ssl_trusted_certificate: the snippet could verify no certificate "
                        "(set it to %s)", t->name, nginx_cmd(),
                        u.tls.ca_file[0] ? u.tls.ca_file : "the CA that signed the store's");
    return true;
}

static bool ng_health(target *t, const char **endpoint, rerr *e)
{
    *endpoint = t->addr;
    char out[512];
    if (!run_nginx("-t", out, sizeof out))
        return rerr_set(e, DIAG_PREFLIGHT_HEALTH, "target %s: '%s -t' fails before the deploy: "
                        "%s", t->name, nginx_cmd(), out);
    return trusts_a_ca(t, e);
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

/* What the snippet can do of a rediss:// store's settings.  The CA is
 * nginx's lua_ssl_trusted_certificate (ng_health checks that it is set);
 * the name is checked by nginx's ngx_ssl_check_host, which matches DNS
 * names only, so verification against an IP address is refused rather
 * than done without a name; a key is read without a passphrase. */
static bool tls_for_snippet(const rtls *t, const char *host, rerr *e)
{
    if (!t->on)
        return true;
    if (t->key_pass[0])
        return rerr_set(e, DIAG_TLS_CONFIG, "the nginx snippet cannot read an encrypted "
                        "client key (key_passphrase): give nginx an unencrypted key_file "
                        "readable by its workers only");
    const char *name = t->server_name[0] ? t->server_name : host;
    unsigned char bin[16];
    if (!t->no_verify && (inet_pton(AF_INET, name, bin) == 1 || inet_pton(AF_INET6, name, bin) == 1))
        return rerr_set(e, DIAG_TLS_CONFIG, "the nginx snippet checks the Redis server's "
                        "certificate against a DNS name only (nginx matches no IP address): "
                        "set tls_server_name to a name the certificate carries");
    return true;
}

/* The snippet's TLS values (Lua literals): off, or the name, the check
 * and the client certificate's files. */
static void tls_values(json_t *vals, const rtls *t, const char *host)
{
    buf b;
    buf_init(&b, 8192);
    json_object_set_new(vals, "TLS", json_string(t->on ? "true" : "false"));
    json_object_set_new(vals, "TLS_VERIFY", json_string(t->no_verify ? "false" : "true"));
    char name[256];
    snprintf(name, sizeof name, "%s", t->server_name[0] ? t->server_name : host);
    lua_safe(name);
    json_object_set_new(vals, "TLS_NAME", json_string(name));
    const char *cert = t->on && t->cert_file[0] ? t->cert_file : NULL;
    const char *key = cert && t->key_file[0] ? t->key_file : cert;
    const char *names[2] = {"CLIENT_CERT", "CLIENT_KEY"}, *paths[2] = {cert, key};
    for (int i = 0; i < 2; i++) {
        buf_reset(&b);
        if (paths[i])
            lua_str(&b, paths[i]);
        else
            buf_puts(&b, "nil");
        json_object_set_new(vals, names[i], json_string(buf_str(&b)));
    }
    buf_free(&b);
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
    /* Left out: the defaults, a rate rule and token_bucket (SPEC.md 5.5). */
    const char *alg = json_string_value(json_object_get(r, "algorithm")) ?: "token_bucket";
    long long q, w = 0;
    if (!strcmp(kind, "concurrency")) {
        q = json_integer_value(json_object_get(r, "max"));
    } else {
        bool bucket = !strcmp(alg, "token_bucket") || !strcmp(alg, "gcra");
        /* A burst left out is the count (SPEC.md 5.5). */
        const json_t *qj = bucket ? json_object_get(r, "burst") : NULL;
        q = json_integer_value(qj ? qj : json_object_get(r, "count"));
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

static void hex_of(const unsigned char *b, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The token of the target's post-deploy check, kept in the state
 * directory (mode 0600) so that the snippet is the same from one deploy to
 * the next: made by the first run that needs it, read by the others; ""
 * when the target has no check_url, or (diff, status, --dry-run, which
 * write nothing) none was made yet. */
static bool check_token(ng_target *t, rerr *e)
{
    target *tg = &t->cfg.base;
    t->token[0] = '\0';
    if (!json_object_get(json_object_get(tg->desc, "settings"), "check_url") ||
        !tg->env->state_dir || !*tg->env->state_dir)
        return true;
    char name[200], path[STATEDIR_PATH_MAX];
    snprintf(name, sizeof name, "nginx-check-%s.token", tg->name);
    for (char *c = name; *c; c++)
        if (*c == '/')
            *c = '_';
    if (!statedir_path(tg->env->state_dir, name, path))
        return rerr_set(e, DIAG_STATE_IO, "target %s: state directory path too long", tg->name);
    size_t len = 0;
    char *old = statedir_read(path, &len);
    if (old && len == CHECK_TOKEN_HEX && strspn(old, "0123456789abcdef") == CHECK_TOKEN_HEX) {
        memcpy(t->token, old, CHECK_TOKEN_HEX + 1);
        free(old);
        return true;
    }
    free(old);
    if (tg->env->dry_run)
        return true;
    unsigned char r[CHECK_TOKEN_HEX / 2];
    if (!rand_fill(r, sizeof r))
        return rerr_set(e, DIAG_STATE_IO, "target %s: no random bytes for the check token",
                        tg->name);
    hex_of(r, sizeof r, t->token);
    return statedir_write_atomic(path, t->token, CHECK_TOKEN_HEX, 0600, e);
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
    if (!target_url_tls_settings(rt, &u, e) || !tls_for_snippet(&u.tls, u.host, e)) {
        rerr_prefix(e, "target %s (the redis target its snippet calls)", tg->name);
        secret_wipe(u.tls.key_pass, sizeof u.tls.key_pass);
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
    if (!check_token((ng_target *)tg, e))
        return false;
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
    tls_values(vals, &u.tls, u.host);
    char tname[sizeof tg->name];
    snprintf(tname, sizeof tname, "%s", tg->name);
    lua_safe(tname);
    json_t *hv = json_object_get(st, "ratelimit_headers");
    json_object_set_new(vals, "TARGET", json_string(tname));
    json_object_set_new(vals, "CHECK_TOKEN", json_string(((ng_target *)tg)->token));
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
    bool ok = cfg_file_read(t, "(nginx snippet)", out, buf_str(&b), b.len, rd, e);
    buf_free(&b);
    return ok;
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

/* --- the post-deploy check through the gateway (SPEC.md 7.10) ----------- */

/* Probes and synthetic requests wait at most this long for nginx to run
 * the new snippet (a reload replaces the workers gracefully). */
#define CHECK_SETTLE_MS 10000

/* Appends s percent-encoded (all but unreserved bytes) to b: header values
 * carry any tenant name; the snippet decodes them with ngx.unescape_uri. */
static void pct(buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            buf_putc(b, (char)*p);
        else
            buf_printf(b, "%%%02X", *p);
    }
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct ng_check {
    target *tg;
    httpc *h;
    const char *url;
    char nonce[17];
    double *rt_ms, *redis_ms;   /* per request: round trip, Redis's time */
    size_t n, cap;
} ng_check;

/* One request with headers hv ("Name: value" lines in one buffer, one
 * per NUL-separated entry); the snippet's answer line into line. */
static bool check_send(ng_check *c, char **hv, size_t nh, char *line, size_t n, double *rt,
                       rerr *e)
{
    const char *hs[16];
    for (size_t i = 0; i < nh && i < 15; i++)
        hs[i] = hv[i];
    hs[nh < 15 ? nh : 15] = NULL;
    httpc_resp r = {0};
    double t0 = mono_ms();
    bool ok = httpc_do(c->h, "GET", c->url, hs, NULL, 0, &r, e);
    *rt = mono_ms() - t0;
    for (char *q = r.body; q && *q; q++)
        if (*q == '\n' || *q == '\r')
            *q = ' ';
    if (ok && r.status != 200)
        ok = rerr_set(e, DIAG_GATEWAY_CHECK_FAILED, "target %s: GET %s: HTTP %ld: %.200s (the "
                      "check location must set $rlc_check to 1 and run the snippet with "
                      "access_by_lua_file)", c->tg->name, c->url, r.status, r.body ?: "");
    else if (!ok)
        rerr_prefix(e, "target %s: post-deploy check", c->tg->name);
    if (ok)
        snprintf(line, n, "%s", r.body ? r.body : "");
    httpc_resp_free(&r);
    return ok;
}

/* Waits until the gateway answers probes with the new snippet (its plan
 * digest): after a reload, old workers may still answer for a while. */
static bool check_settle(ng_check *c, const char *token, rerr *e)
{
    char h0[128], line[512] = "";
    snprintf(h0, sizeof h0, "X-RLC-Check: %s", token);
    char *hv[2] = {h0, "X-RLC-Check-Probe: 1"};
    const char *want = c->tg->env->digest ? c->tg->env->digest : "";
    double until = mono_ms() + CHECK_SETTLE_MS, rt;
    for (;;) {
        if (!check_send(c, hv, 2, line, sizeof line, &rt, e))
            return false;
        if (!strncmp(line, want, strlen(want)) && line[strlen(want)] == ' ')
            return true;
        if (mono_ms() > until)
            return rerr_set(e, DIAG_GATEWAY_CHECK_FAILED, "target %s: %s still answers for "
                            "another plan (%.16s...) after %d s: nginx does not run the new "
                            "snippet there", c->tg->name, c->url, line, CHECK_SETTLE_MS / 1000);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void check_add(ng_check *c, double rt, double redis)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 512;
        c->rt_ms = xrealloc(c->rt_ms, c->cap * sizeof *c->rt_ms);
        c->redis_ms = xrealloc(c->redis_ms, c->cap * sizeof *c->redis_ms);
    }
    c->rt_ms[c->n] = rt;
    c->redis_ms[c->n++] = redis;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q quantile of v[0..n) (sorted in place): the smallest value with at
 * least q of the values at or below it. */
static double quantile(double *v, size_t n, double q)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, dbl_cmp);
    size_t k = (size_t)(q * (double)n + 0.999999);
    return v[k ? k - 1 : 0];
}

/* The plan's verification cases (SPEC.md 5.6), round after round (each
 * with fresh counters: a new nonce) until want requests are sent, each
 * through the gateway's check location and compared with the simulator. */
static bool check_cases(ng_check *c, const char *token, long long want, rerr *e)
{
    const target_env *env = c->tg->env;
    const json_t *cases = json_object_get(env->plan, "verify");
    if (!json_array_size(cases) || !env->rs)
        return rerr_set(e, DIAG_GATEWAY_CHECK_FAILED, "target %s: the plan has no verification "
                        "cases to send through the gateway", c->tg->name);
    long long sent = 0;
    bool ok = true;
    for (int round = 0; ok && sent < want; round++) {
        unsigned char r[8];
        if (!rand_fill(r, sizeof r))
            memset(r, 0, sizeof r);
        hex_of(r, sizeof r, c->nonce);
        sim *sm = NULL;
        rl_ruleset one = *env->rs;
        const char *sim_of = NULL;
        size_t i;
        const json_t *vc;
        json_array_foreach(cases, i, vc) {
            if (!ok || sent >= want)
                break;
            const char *tn = json_string_value(json_object_get(vc, "tenant"));
            const rl_tenant *x = tn ? rules_tenant(env->rs, tn) : NULL;
            if (!tn || (!x && !env->rs->any_tenant))
                continue;
            bool start = !sim_of || strcmp(sim_of, tn);
            if (start) {
                sim_free(sm);
                one.tenants = (rl_tenant *)x;
                one.ntenants = x ? 1 : 0;
                sm = sim_new(&one);
                sim_of = tn;
            }
            buf path;
            buf_init(&path, BUF_DEFAULT_MAX);
            size_t k;
            const json_t *el;
            json_array_foreach(json_object_get(vc, "path"), k, el) {
                if (k == 0)
                    continue;
                const json_t *kd = json_object_get(el, "kind"), *nm = json_object_get(el, "name");
                plan_subject_seg(&path, k == 1, json_string_value(kd), json_string_length(kd),
                                 json_string_value(nm), json_string_length(nm));
            }
            const char *method = json_string_value(json_object_get(vc, "method")) ?: "GET";
            const char *route = json_string_value(json_object_get(vc, "route")) ?: "/";
            long long cost = json_integer_value(json_object_get(vc, "cost"));
            long long sends = json_integer_value(json_object_get(vc, "sends"));
            if (cost < 1)
                cost = 1;
            for (long long s2 = 0; ok && s2 < sends && sent < want; s2++) {
                buf hb[8];
                char *hv[8];
                for (int j = 0; j < 8; j++)
                    buf_init(&hb[j], 1 << 16);
                char lease[64];
                snprintf(lease, sizeof lease, "check-%d-%zu-%lld", round, i, s2);
                buf_printf(&hb[0], "X-RLC-Check: %s", token);
                buf_puts(&hb[1], "X-RLC-Check-Tenant: ");
                pct(&hb[1], tn);
                buf_puts(&hb[2], "X-RLC-Check-Path: ");
                pct(&hb[2], buf_str(&path));
                buf_puts(&hb[3], "X-RLC-Check-Method: ");
                pct(&hb[3], method);
                buf_puts(&hb[4], "X-RLC-Check-Route: ");
                pct(&hb[4], route);
                buf_printf(&hb[5], "X-RLC-Check-Cost: %lld", cost);
                buf_printf(&hb[6], "X-RLC-Check-Nonce: %s", c->nonce);
                buf_printf(&hb[7], "X-RLC-Check-Lease: %s", lease);
                size_t nh = 8;
                for (int j = 0; j < 8; j++)
                    hv[j] = (char *)buf_str(&hb[j]);
                char *extra[9];
                memcpy(extra, hv, sizeof hv);
                if (start && s2 == 0)
                    extra[nh++] = "X-RLC-Check-Start: 1";
                char line[512] = "";
                double rt = 0;
                ok = check_send(c, extra, nh, line, sizeof line, &rt, e);
                for (int j = 0; j < 8; j++)
                    buf_free(&hb[j]);
                if (!ok)
                    break;
                char plan[80] = "", rule[40] = "";
                long long allowed = -1, remaining = 0, reset = 0, retry = 0, now = 0, us = 0;
                if (sscanf(line, "%79s %lld %39s %lld %lld %lld %lld %lld", plan, &allowed, rule,
                           &remaining, &reset, &retry, &now, &us) != 8) {
                    ok = rerr_set(e, DIAG_GATEWAY_CHECK_FAILED, "target %s: %s answered \"%.120s\", "
                                  "not a decision of the snippet", c->tg->name, c->url, line);
                    break;
                }
                check_add(c, rt, (double)us / 1000.0);
                sent++;
                sim_decision d;
                sim_status st = sim_decide(sm, tn, buf_str(&path), method, route, cost, now,
                                           lease, &d);
                if (st != SIM_OK || d.allowed != (allowed == 1) || d.remaining != remaining)
                    ok = rerr_set(e, DIAG_VERIFY_MISMATCH, "target %s: through the gateway, "
                                  "tenant %s, path '%s', %s %s, request %lld: nginx said %s "
                                  "(remaining %lld), the simulator %s (remaining %lld)",
                                  c->tg->name, tn, buf_str(&path), method, route, s2 + 1,
                                  allowed == 1 ? "allow" : "reject", remaining,
                                  st != SIM_OK ? sim_status_text(st)
                                               : d.allowed ? "allow" : "reject",
                                  (long long)d.remaining);
            }
            buf_free(&path);
        }
        sim_free(sm);
    }
    return ok;
}

/* The check of target tg when it names a check_url; its figures go to the
 * summary's "gateway_checks". */
static bool gateway_check(target *tg, json_t *summary, rerr *e)
{
    ng_target *t = (ng_target *)tg;
    const json_t *st = json_object_get(tg->desc, "settings");
    const char *url = json_string_value(json_object_get(st, "check_url"));
    if (!url)
        return true;
    json_t *checks = json_object_get(summary, "gateway_checks");
    if (!checks) {
        checks = json_array();
        json_object_set_new(summary, "gateway_checks", checks);
    }
    if (tg->note[0]) {
        /* nginx is not running: there is no gateway to send through. */
        json_array_append_new(checks, json_pack("{s:s,s:s,s:s}", "target", tg->name, "url", url,
                                                "skipped", "nginx is not running"));
        size_t l = strlen(tg->note);
        snprintf(tg->note + l, sizeof tg->note - l, "; the post-deploy check through %s did "
                 "not run", url);
        return true;
    }
    if (!t->token[0])
        return rerr_set(e, DIAG_GATEWAY_CHECK_FAILED, "target %s: no check token in the state "
                        "directory", tg->name);
    json_t *nj = json_object_get(st, "check_requests");
    long long want = json_is_integer(nj) && json_integer_value(nj) > 0 ? json_integer_value(nj)
                                                                       : 500;
    json_t *bj = json_object_get(st, "check_latency_budget_ms");
    ng_check c = {.tg = tg, .url = url};
    if (!(c.h = httpc_new(2000, 5000, NULL, e)))
        return false;
    bool ok = check_settle(&c, t->token, e) && check_cases(&c, t->token, want, e);
    double p50 = quantile(c.rt_ms, c.n, 0.5), p99 = quantile(c.rt_ms, c.n, 0.99);
    double r50 = quantile(c.redis_ms, c.n, 0.5), r99 = quantile(c.redis_ms, c.n, 0.99);
    json_t *o = json_pack("{s:s,s:s,s:I,s:f,s:f,s:f,s:f}", "target", tg->name, "url", url,
                          "requests", (json_int_t)c.n, "p50_ms", p50, "p99_ms", p99,
                          "redis_p50_ms", r50, "redis_p99_ms", r99);
    if (json_is_integer(bj))
        json_object_set_new(o, "budget_p99_ms", json_integer(json_integer_value(bj)));
    json_array_append_new(checks, o);
    if (ok && json_is_integer(bj) && p99 > (double)json_integer_value(bj))
        ok = rerr_set(e, DIAG_GATEWAY_CHECK_BUDGET, "target %s: %zu synthetic requests through %s: "
                      "p99 round trip %.2f ms is over the budget check_latency_budget = %lldms "
                      "(p50 %.2f ms; Redis p50 %.2f ms, p99 %.2f ms)", tg->name, c.n, url, p99,
                      (long long)json_integer_value(bj), p50, r50, r99);
    if (ok)
        target_say(tg, "%zu synthetic requests through %s decided as the simulator predicts; "
                   "round trip p50 %.2f ms, p99 %.2f ms (Redis p50 %.2f ms, p99 %.2f ms)", c.n,
                   url, p50, p99, r50, r99);
    free(c.rt_ms);
    free(c.redis_ms);
    httpc_free(c.h);
    return ok;
}

static bool ng_verify(target *tg, json_t *summary, rerr *e)
{
    return cfg_file_verify(tg, summary, e) && gateway_check(tg, summary, e);
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
    .verify = ng_verify,
    .restore = ng_restore,
    .diff = cfg_diff,
    .status = ng_status,
    .free = ng_free,
};
