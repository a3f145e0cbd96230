/* redis_conn.c - one Redis node connection.  See redis_conn.h.
 *
 * Transport errors mark the connection broken; the next command reconnects
 * from scratch (new context, timeouts set again, AUTH and SELECT again)
 * because hiredis 0.14's redisReconnect forgets the command timeout. */
#include "redis_conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "xalloc.h"

struct rconn {
    redisContext *ctx;   /* NULL while broken */
    char host[256];
    int port;
    rconn_opts o;
    char user[128], pass[512];
};

static bool pct_decode(const char *s, size_t n, char *out, size_t outn)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            unsigned v;
            if (i + 2 >= n)   /* '%' needs two hex digits after it */
                return false;
            char hx[3] = {s[i + 1], s[i + 2], 0};
            if (sscanf(hx, "%2x", &v) != 1)
                return false;
            c = (char)v;
            i += 2;
        }
        if (j + 1 >= outn)
            return false;
        out[j++] = c;
    }
    out[j] = '\0';
    return true;
}

bool rurl_parse(const char *s, bool allow_password, rurl *u, rerr *e)
{
    memset(u, 0, sizeof *u);
    u->port = 6379;
    const char *p = s;
    if (strncmp(p, "redis://", 8)) {
        char *shown = url_redact(s);
        rerr_set(e, DIAG_STORE_URL, "'%s' is not a redis:// URL (rediss:// and unix sockets "
                                    "are not supported)", shown);
        free(shown);
        return false;
    }
    p += 8;
    const char *at = strrchr(p, '@');
    const char *slash = strchr(p, '/');
    if (at && (!slash || at < slash)) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *uend = colon ? colon : at;
        if (!pct_decode(p, (size_t)(uend - p), u->user, sizeof u->user))
            return rerr_set(e, DIAG_STORE_URL, "bad user name in store URL");
        if (colon) {
            if (!allow_password)
                return rerr_set(e, DIAG_STORE_URL,
                                "a password in a URL given on the command line is refused; "
                                "give it through an env variable or a file (NAME=env:VAR "
                                "or NAME=file:PATH)");
            if (!pct_decode(colon + 1, (size_t)(at - colon - 1), u->pass, sizeof u->pass))
                return rerr_set(e, DIAG_STORE_URL, "bad password encoding in store URL");
        }
        p = at + 1;
    }
    const char *hend = p + strcspn(p, ":/");
    if (hend == p || (size_t)(hend - p) >= sizeof u->host)
        return rerr_set(e, DIAG_STORE_URL, "store URL has no host");
    /* A host name or an IPv4 address: anything else ('?', '@', blanks)
     * would be carried into every message that names the node. */
    for (const char *h = p; h < hend; h++)
        if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || (*h >= '0' && *h <= '9') ||
              *h == '.' || *h == '-' || *h == '_'))
            return rerr_set(e, DIAG_STORE_URL, "bad host in store URL (only letters, digits, "
                                               "'.', '-' and '_')");
    memcpy(u->host, p, (size_t)(hend - p));
    p = hend;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port <= 0 || port > 65535)
            return rerr_set(e, DIAG_STORE_URL, "bad port in store URL");
        u->port = (int)port;
        p = end;
    }
    if (*p == '/') {
        if (p[1]) {
            char *end;
            long db = strtol(p + 1, &end, 10);
            if (*end || db < 0 || db > 1000000)
                return rerr_set(e, DIAG_STORE_URL, "bad database number in store URL");
            u->db = (int)db;
        }
        p += strlen(p);
    }
    if (*p)
        return rerr_set(e, DIAG_STORE_URL, "unexpected text after the port in store URL (a "
                                           "query is not supported)");
    return true;
}

static struct timeval ms_tv(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

static bool ctx_failed(rconn *c, rerr *e, const char *what)
{
    int code = DIAG_STORE_CONNECT;
    const char *msg = c->ctx ? c->ctx->errstr : "out of memory";
    if (c->ctx && c->ctx->err == REDIS_ERR_IO &&
        (strstr(msg, "temporarily unavailable") || strstr(msg, "timed out") ||
         strstr(msg, "Timeout")))
        code = DIAG_STORE_TIMEOUT;
    rerr_set(e, code, "%s:%d: %s: %s%s", c->host, c->port, what, msg,
             code == DIAG_STORE_TIMEOUT ? " (timeout)" : "");
    if (c->ctx)
        redisFree(c->ctx);
    c->ctx = NULL;
    return false;
}

static bool do_connect(rconn *c, rerr *e)
{
    c->ctx = redisConnectWithTimeout(c->host, c->port, ms_tv(c->o.connect_ms));
    if (!c->ctx || c->ctx->err)
        return ctx_failed(c, e, "connect");
    if (redisSetTimeout(c->ctx, ms_tv(c->o.cmd_ms)) != REDIS_OK)
        return ctx_failed(c, e, "set timeout");
    redisReply *r = NULL;
    if (c->pass[0]) {
        if (c->user[0])
            r = redisCommand(c->ctx, "AUTH %s %s", c->user, c->pass);
        else
            r = redisCommand(c->ctx, "AUTH %s", c->pass);
        if (!r)
            return ctx_failed(c, e, "AUTH");
        if (r->type == REDIS_REPLY_ERROR) {
            rerr_set(e, DIAG_STORE_AUTH, "%s:%d: authentication as '%s' failed: %s", c->host,
                     c->port, c->user[0] ? c->user : "default", r->str);
            freeReplyObject(r);
            redisFree(c->ctx);
            c->ctx = NULL;
            return false;
        }
        freeReplyObject(r);
    }
    if (c->o.db) {
        r = redisCommand(c->ctx, "SELECT %d", c->o.db);
        if (!r)
            return ctx_failed(c, e, "SELECT");
        bool bad = r->type == REDIS_REPLY_ERROR;
        if (bad)
            rerr_set(e, DIAG_STORE_REPLY, "%s:%d: SELECT %d: %s", c->host, c->port, c->o.db,
                     r->str);
        freeReplyObject(r);
        if (bad) {
            redisFree(c->ctx);
            c->ctx = NULL;
            return false;
        }
    }
    return true;
}

rconn *rconn_open(const char *host, int port, const rconn_opts *o, rerr *e)
{
    rconn *c = xcalloc(1, sizeof *c);
    snprintf(c->host, sizeof c->host, "%s", host);
    c->port = port;
    if (o)
        c->o = *o;
    if (!c->o.connect_ms)
        c->o.connect_ms = 2000;
    if (!c->o.cmd_ms)
        c->o.cmd_ms = 5000;
    snprintf(c->user, sizeof c->user, "%s", o && o->user ? o->user : "");
    snprintf(c->pass, sizeof c->pass, "%s", o && o->pass ? o->pass : "");
    c->o.user = c->user;
    c->o.pass = c->pass;
    if (!do_connect(c, e)) {
        rconn_close(c);
        return NULL;
    }
    return c;
}

void rconn_close(rconn *c)
{
    if (!c)
        return;
    if (c->ctx)
        redisFree(c->ctx);
    memset(c->pass, 0, sizeof c->pass);
    free(c);
}


static bool ensure(rconn *c, rerr *e)
{
    return c->ctx || do_connect(c, e);
}

redisReply *rconn_cmd(rconn *c, rerr *e, int argc, const char **argv, const size_t *lens)
{
    if (!ensure(c, e))
        return NULL;
    redisReply *r = redisCommandArgv(c->ctx, argc, argv, lens);
    if (!r)
        ctx_failed(c, e, argv[0]);
    return r;
}

redisReply *rconn_cmdf(rconn *c, rerr *e, const char *fmt, ...)
{
    if (!ensure(c, e))
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c->ctx, fmt, ap);
    va_end(ap);
    if (!r)
        ctx_failed(c, e, fmt);
    return r;
}

bool rconn_append(rconn *c, const char *resp, size_t len, rerr *e)
{
    if (!ensure(c, e))
        return false;
    if (redisAppendFormattedCommand(c->ctx, resp, len) != REDIS_OK)
        return ctx_failed(c, e, "append");
    return true;
}

redisReply *rconn_read(rconn *c, rerr *e)
{
    if (!c->ctx) {
        rerr_set(e, DIAG_STORE_CONNECT, "%s:%d: connection lost during a pipeline", c->host,
                 c->port);
        return NULL;
    }
    void *r = NULL;
    if (redisGetReply(c->ctx, &r) != REDIS_OK || !r) {
        ctx_failed(c, e, "pipeline read");
        return NULL;
    }
    return r;
}

bool rreply_is(const redisReply *r, const char *s)
{
    return r && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING) &&
           !strcmp(r->str, s);
}
