/* redis_conn.c - one Redis node connection.  See redis_conn.h.
 *
 * Transport errors mark the connection broken; the next command reconnects
 * from scratch (new context, timeouts set again, AUTH and SELECT again)
 * because hiredis 0.14's redisReconnect forgets the command timeout.
 *
 * Two transports behind one set of functions: plain TCP is a hiredis
 * context; TLS is a tls_conn stream, with commands formatted as RESP
 * (rconn_format; hiredis for rconn_cmdf's printf-style ones) into an
 * output buffer and replies parsed by a hiredis reader fed from the stream.
 * Pipelining has the same shape in both: appended commands wait in the
 * buffer until the first read. */
#include "redis_conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "redact.h"
#include "xalloc.h"

/* Largest run of commands queued before a read (the deploy's batches are
 * far smaller). */
#define RCONN_OUT_MAX ((size_t)1 << 30)

struct rconn {
    redisContext *ctx;   /* plain: NULL while broken */
    tls_conn *tls;       /* TLS: NULL while broken */
    redisReader *rd;     /* TLS: the replies read so far */
    buf out;             /* TLS: commands not sent yet */
    bool use_tls;
    rtls t;              /* a copy of the options' TLS settings */
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

/* "%00" would cut a path short without a word. */
static bool nul_escape(const char *v, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++)
        if (v[i] == '%' && v[i + 1] == '0' && v[i + 2] == '0')
            return true;
    return false;
}

/* One "name=value" of a rediss:// query into u->tls. */
static bool query_param(const char *s, size_t n, bool allow_password, rurl *u, unsigned *seen,
                        rerr *e)
{
    static const char *const names[] = {"ca_file", "cert_file", "key_file", "tls_server_name",
                                        "tls_verify", "key_passphrase"};
    const char *eq = memchr(s, '=', n);
    size_t nl = eq ? (size_t)(eq - s) : n;
    size_t i = 0;
    for (; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == nl && !strncmp(s, names[i], nl))
            break;
    if (i == sizeof names / sizeof names[0] || !eq)
        return rerr_set(e, DIAG_STORE_URL, "unknown or valueless store URL query parameter "
                        "'%.*s' (known: ca_file, cert_file, key_file, tls_server_name, "
                        "tls_verify=false, key_passphrase)", (int)(nl > 40 ? 40 : nl), s);
    if (*seen & (1u << i))
        return rerr_set(e, DIAG_STORE_URL, "store URL query parameter %s given twice", names[i]);
    *seen |= 1u << i;
    const char *v = eq + 1;
    size_t vl = n - nl - 1;
    rtls *t = &u->tls;
    char *out[] = {t->ca_file, t->cert_file, t->key_file, t->server_name, NULL, t->key_pass};
    size_t outn[] = {sizeof t->ca_file, sizeof t->cert_file, sizeof t->key_file,
                     sizeof t->server_name, 0, sizeof t->key_pass};
    if (i == 5 && !allow_password)
        return rerr_set(e, DIAG_STORE_URL, "a key_passphrase in a URL given on the command line "
                        "is refused; give the URL through an env variable or a file");
    if (i == 4) {
        if (vl == 5 && !strncmp(v, "false", 5))
            t->no_verify = true;
        else if (!(vl == 4 && !strncmp(v, "true", 4)))
            return rerr_set(e, DIAG_STORE_URL, "tls_verify takes true or false");
        return true;
    }
    if (!vl || nul_escape(v, vl) || !pct_decode(v, vl, out[i], outn[i]))
        return rerr_set(e, DIAG_STORE_URL, "bad or too long value of %s in the store URL",
                        names[i]);
    return true;
}

bool rurl_parse(const char *s, bool allow_password, rurl *u, rerr *e)
{
    memset(u, 0, sizeof *u);
    u->port = 6379;
    const char *p = s;
    if (!strncmp(p, "rediss://", 9)) {
        u->tls.on = true;
        p++;
    } else if (strncmp(p, "redis://", 8)) {
        char *shown = url_redact(s);
        rerr_set(e, DIAG_STORE_URL, "'%s' is not a redis:// or rediss:// URL (unix sockets "
                                    "are not supported)", shown);
        free(shown);
        return false;
    }
    p += 8;
    /* The query (TLS settings) ends the URL; the rest is parsed without it. */
    char head[1024];
    const char *q = strchr(p, '?');
    if (q) {
        if (!u->tls.on)
            return rerr_set(e, DIAG_TLS_CONFIG, "a store URL query sets TLS settings: the URL "
                            "must be rediss://");
        if ((size_t)(q - p) >= sizeof head)
            return rerr_set(e, DIAG_STORE_URL, "store URL too long");
        unsigned seen = 0;
        for (const char *a = q + 1; *a;) {
            size_t n = strcspn(a, "&");
            if (n && !query_param(a, n, allow_password, u, &seen, e))
                return false;
            a += n + (a[n] == '&');
        }
        memcpy(head, p, (size_t)(q - p));
        head[q - p] = '\0';
        p = head;
    }
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
        return rerr_set(e, DIAG_STORE_URL, "unexpected text after the port in store URL");
    return true;
}

static struct timeval ms_tv(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

static bool connected(const rconn *c)
{
    return c->use_tls ? c->tls != NULL : c->ctx != NULL;
}

/* Drops the transport; the next command reconnects. */
static void drop(rconn *c)
{
    if (c->ctx)
        redisFree(c->ctx);
    c->ctx = NULL;
    tls_conn_close(c->tls);
    c->tls = NULL;
    if (c->rd)
        redisReaderFree(c->rd);
    c->rd = NULL;
    buf_reset(&c->out);
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
    drop(c);
    return false;
}

/* --- the TLS transport ------------------------------------------------------ */

static bool tls_flush(rconn *c, const char *what, rerr *e)
{
    if (!buf_ok(&c->out)) {
        drop(c);
        return rerr_set(e, DIAG_STORE_CONNECT, "%s:%d: more than %zu bytes of commands queued "
                        "(limit)", c->host, c->port, RCONN_OUT_MAX);
    }
    bool ok = !c->out.len || tls_conn_write(c->tls, c->out.data, c->out.len, c->o.cmd_ms,
                                                    what, e);
    buf_reset(&c->out);
    if (!ok)
        drop(c);
    return ok;
}

/* The next reply: from what was read already, else from the stream. */
static redisReply *tls_reply(rconn *c, const char *what, rerr *e)
{
    char in[16384];
    for (;;) {
        void *r = NULL;
        if (redisReaderGetReply(c->rd, &r) != REDIS_OK) {
            rerr_set(e, DIAG_STORE_REPLY, "%s:%d: bad reply: %s", c->host, c->port,
                     c->rd->errstr);
            drop(c);
            return NULL;
        }
        if (r)
            return r;
        ssize_t n = tls_conn_read(c->tls, in, sizeof in, c->o.cmd_ms, what, e);
        if (n < 0 || redisReaderFeed(c->rd, in, (size_t)n) != REDIS_OK) {
            drop(c);
            return NULL;
        }
    }
}

/* Sends one formatted command (consumed) with anything queued before it,
 * and returns its reply.  name: the command's name, for messages. */
static redisReply *tls_roundtrip(rconn *c, char *cmd, int len, const char *name, rerr *e)
{
    if (len < 0) {
        free(cmd);
        return rerr_set(e, DIAG_STORE_REPLY, "%s:%d: cannot format the command", c->host,
                        c->port), NULL;
    }
    buf_append(&c->out, cmd, (size_t)len);
    redisFreeCommand(cmd);
    return tls_flush(c, name, e) ? tls_reply(c, name, e) : NULL;
}

/* --- one command on either transport --------------------------------------- */

static redisReply *vcmdf(rconn *c, rerr *e, const char *fmt, va_list ap)
{
    if (c->use_tls) {
        char *cmd = NULL, name[32];
        int len = redisvFormatCommand(&cmd, fmt, ap);
        /* The name only: the arguments may hold a password (AUTH). */
        snprintf(name, sizeof name, "%.*s", (int)strcspn(fmt, " "), fmt);
        return tls_roundtrip(c, cmd, len, name, e);
    }
    redisReply *r = redisvCommand(c->ctx, fmt, ap);
    if (!r)
        ctx_failed(c, e, fmt);
    return r;
}

static redisReply *cmdf(rconn *c, rerr *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcmdf(c, e, fmt, ap);
    va_end(ap);
    return r;
}

static bool open_transport(rconn *c, rerr *e)
{
    if (c->use_tls) {
        c->tls = tls_conn_open(c->host, c->port, &c->t, c->o.connect_ms, e);
        if (!c->tls)
            return false;
        c->rd = redisReaderCreate();
        return true;
    }
    c->ctx = redisConnectWithTimeout(c->host, c->port, ms_tv(c->o.connect_ms));
    if (!c->ctx || c->ctx->err)
        return ctx_failed(c, e, "connect");
    if (redisSetTimeout(c->ctx, ms_tv(c->o.cmd_ms)) != REDIS_OK)
        return ctx_failed(c, e, "set timeout");
    return true;
}

static bool do_connect(rconn *c, rerr *e)
{
    if (!open_transport(c, e))
        return false;
    redisReply *r = NULL;
    if (c->pass[0]) {
        if (c->user[0])
            r = cmdf(c, e, "AUTH %s %s", c->user, c->pass);
        else
            r = cmdf(c, e, "AUTH %s", c->pass);
        if (!r)
            return false;
        if (r->type == REDIS_REPLY_ERROR) {
            rerr_set(e, DIAG_STORE_AUTH, "%s:%d: authentication as '%s' failed: %s", c->host,
                     c->port, c->user[0] ? c->user : "default", r->str);
            freeReplyObject(r);
            drop(c);
            return false;
        }
        freeReplyObject(r);
    }
    if (c->o.db) {
        r = cmdf(c, e, "SELECT %d", c->o.db);
        if (!r)
            return false;
        bool bad = r->type == REDIS_REPLY_ERROR;
        if (bad)
            rerr_set(e, DIAG_STORE_REPLY, "%s:%d: SELECT %d: %s", c->host, c->port, c->o.db,
                     r->str);
        freeReplyObject(r);
        if (bad) {
            drop(c);
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
    c->use_tls = o && o->tls && o->tls->on;
    if (c->use_tls)
        c->t = *o->tls;
    c->o.tls = NULL;
    buf_init(&c->out, RCONN_OUT_MAX);
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
    drop(c);
    buf_free(&c->out);
    memset(c->pass, 0, sizeof c->pass);
    memset(c->t.key_pass, 0, sizeof c->t.key_pass);
    free(c);
}


static bool ensure(rconn *c, rerr *e)
{
    return connected(c) || do_connect(c, e);
}

redisReply *rconn_cmd(rconn *c, rerr *e, int argc, const char **argv, const size_t *lens)
{
    if (!ensure(c, e))
        return NULL;
    if (c->use_tls) {
        char *cmd = NULL;
        int len = (int)rconn_format(&cmd, argc, argv, lens);
        char name[32];
        int nl = lens ? (int)(lens[0] < 31 ? lens[0] : 31) : (int)strnlen(argv[0], 31);
        snprintf(name, sizeof name, "%.*s", nl, argv[0]);
        return tls_roundtrip(c, cmd, len, name, e);
    }
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
    redisReply *r = vcmdf(c, e, fmt, ap);
    va_end(ap);
    return r;
}

bool rconn_append(rconn *c, const char *resp, size_t len, rerr *e)
{
    if (!ensure(c, e))
        return false;
    if (c->use_tls) {
        buf_append(&c->out, resp, len);
        return true;
    }
    if (redisAppendFormattedCommand(c->ctx, resp, len) != REDIS_OK)
        return ctx_failed(c, e, "append");
    return true;
}

bool rconn_flush(rconn *c, rerr *e)
{
    if (!connected(c)) {
        rerr_set(e, DIAG_STORE_CONNECT, "%s:%d: connection lost during a pipeline", c->host,
                 c->port);
        return false;
    }
    if (c->use_tls)
        return tls_flush(c, "pipeline", e);
    int done = 0;
    while (!done)
        if (redisBufferWrite(c->ctx, &done) != REDIS_OK)
            return ctx_failed(c, e, "pipeline write");
    return true;
}

redisReply *rconn_read(rconn *c, rerr *e)
{
    if (!connected(c)) {
        rerr_set(e, DIAG_STORE_CONNECT, "%s:%d: connection lost during a pipeline", c->host,
                 c->port);
        return NULL;
    }
    if (c->use_tls)
        return tls_flush(c, "pipeline", e) ? tls_reply(c, "pipeline read", e) : NULL;
    void *r = NULL;
    if (redisGetReply(c->ctx, &r) != REDIS_OK || !r) {
        ctx_failed(c, e, "pipeline read");
        return NULL;
    }
    return r;
}

/* n in decimal at w; returns the end. */
static char *put_count(char *w, size_t n)
{
    char d[24];
    int k = 0;
    do {
        d[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (k)
        *w++ = d[--k];
    return w;
}

/* The number of decimal digits of n. */
static size_t count_len(size_t n)
{
    size_t k = 1;
    while (n >= 10) {
        n /= 10;
        k++;
    }
    return k;
}

size_t rconn_format(char **out, int argc, const char **argv, const size_t *lens)
{
    /* Sized exactly: a deploy holds 100 000 configs' commands at once. */
    size_t need = 1 + count_len((size_t)argc) + 2 + 1;
    for (int i = 0; i < argc; i++) {
        size_t l = lens ? lens[i] : strlen(argv[i]);
        need += 1 + count_len(l) + 2 + l + 2;
    }
    char *b = xmalloc(need), *w = b;
    *w++ = '*';
    w = put_count(w, (size_t)argc);
    *w++ = '\r';
    *w++ = '\n';
    for (int i = 0; i < argc; i++) {
        size_t l = lens ? lens[i] : strlen(argv[i]);
        *w++ = '$';
        w = put_count(w, l);
        *w++ = '\r';
        *w++ = '\n';
        if (l)
            memcpy(w, argv[i], l);
        w += l;
        *w++ = '\r';
        *w++ = '\n';
    }
    *w = '\0';
    *out = b;
    return (size_t)(w - b);
}

bool rreply_is(const redisReply *r, const char *s)
{
    return r && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING) &&
           !strcmp(r->str, s);
}
