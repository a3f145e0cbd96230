/* httpc.c - HTTP requests over one libcurl easy handle.  See httpc.h. */
#include "httpc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl_lazy.h"
#include "redact.h"
#include "xalloc.h"

struct httpc {
    CURL *c;
    int connect_ms, timeout_ms;
    char *ca_file;
    bool before_send;
};

httpc *httpc_new(int connect_ms, int timeout_ms, const char *ca_file, rerr *e)
{
    static bool inited;
    char why[256];
    const curl_api *C = curl_lazy(why, sizeof why);
    if (!C) {
        rerr_set(e, DIAG_STORE_CONNECT, "cannot load libcurl, which HTTP clients need: %s", why);
        return NULL;
    }
    if (!inited) {
        /* Single-threaded process: the first client initialises libcurl. */
        if (C->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            rerr_set(e, DIAG_STORE_CONNECT, "libcurl initialisation failed");
            return NULL;
        }
        inited = true;
    }
    httpc *h = xcalloc(1, sizeof *h);
    if (!(h->c = C->easy_init())) {
        free(h);
        rerr_set(e, DIAG_STORE_CONNECT, "cannot create an HTTP client (libcurl refused)");
        return NULL;
    }
    h->connect_ms = connect_ms;
    h->timeout_ms = timeout_ms;
    h->ca_file = ca_file ? xstrdup(ca_file) : NULL;
    return h;
}

void httpc_free(httpc *h)
{
    if (!h)
        return;
    curl_lazy(NULL, 0)->easy_cleanup(h->c);
    free(h->ca_file);
    free(h);
}

void httpc_resp_free(httpc_resp *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

bool httpc_failed_before_send(const httpc *h)
{
    return h && h->before_send;
}

typedef struct sink {
    httpc_resp *r;
    size_t cap;
    bool too_big;
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t k = size * n;
    if (s->r->len + k > HTTPC_MAX_BODY) {
        s->too_big = true;
        return 0;   /* aborts the transfer */
    }
    if (s->r->len + k + 1 > s->cap) {
        size_t nc = s->cap ? s->cap : 4096;
        while (nc < s->r->len + k + 1)
            nc *= 2;
        s->r->body = xrealloc(s->r->body, nc);
        s->cap = nc;
    }
    memcpy(s->r->body + s->r->len, p, k);
    s->r->len += k;
    s->r->body[s->r->len] = '\0';
    return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    httpc_resp *r = ud;
    size_t k = size * n;
    if (k > 5 && !strncasecmp(p, "ETag:", 5)) {
        const char *v = p + 5;
        size_t vl = k - 5;
        while (vl && isspace((unsigned char)*v))
            v++, vl--;
        while (vl && isspace((unsigned char)v[vl - 1]))
            vl--;
        if (vl >= sizeof r->etag)
            vl = sizeof r->etag - 1;
        memcpy(r->etag, v, vl);
        r->etag[vl] = '\0';
    }
    return k;
}

bool httpc_do(httpc *h, const char *method, const char *url, const char *const *headers,
              const char *body, size_t bodylen, httpc_resp *r, rerr *e)
{
    memset(r, 0, sizeof *r);
    h->before_send = false;
    CURL *c = h->c;
    const curl_api *C = curl_lazy(NULL, 0);    /* loaded: h exists */
    C->easy_reset(c);
    sink s = {.r = r};
    struct curl_slist *hl = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        hl = C->slist_append(hl, headers[i]);
    /* No "Expect: 100-continue" round trip on large bodies. */
    hl = C->slist_append(hl, "Expect:");
    C->easy_setopt(c, CURLOPT_URL, url);
    C->easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    C->easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    C->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    C->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_ms);
    C->easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
    C->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    C->easy_setopt(c, CURLOPT_WRITEDATA, &s);
    C->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    C->easy_setopt(c, CURLOPT_HEADERDATA, r);
    C->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    C->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    C->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->ca_file)
        C->easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
    if (!strcmp(method, "HEAD"))
        C->easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        C->easy_setopt(c, CURLOPT_POSTFIELDS, body);
        C->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
    }
    CURLcode rc = C->easy_perform(c);
    C->slist_free_all(hl);
    C->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (!r->body) {
        r->body = xcalloc(1, 1);
        r->len = 0;
    }
    if (rc == CURLE_OK)
        return true;
    char *shown = url_redact(url);
    if (s.too_big) {
        rerr_set(e, DIAG_STORE_REPLY, "%s %s: response larger than %u MiB", method, shown,
                 HTTPC_MAX_BODY >> 20);
        free(shown);
        return false;
    }
    int code = DIAG_STORE_REPLY;
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        h->before_send = true;
        code = DIAG_STORE_CONNECT;
        break;
    case CURLE_OPERATION_TIMEDOUT:
        code = DIAG_STORE_TIMEOUT;
        break;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        code = DIAG_STORE_CONNECT;
        break;
    default:
        break;
    }
    rerr_set(e, code, "%s %s: %s%s", method, shown, C->easy_strerror(rc),
             rc == CURLE_OPERATION_TIMEDOUT ? " (no answer within the timeout)" : "");
    free(shown);
    return false;
}
