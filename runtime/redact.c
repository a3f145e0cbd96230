/* redact.c - URLs without their secrets.  See redact.h.  It only removes
 * parts; it does not decide whether a URL is acceptable (rurl_parse and
 * the gateways do). */
#include "redact.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>


#include "buf.h"
#include "curl_lazy.h"
#include "xalloc.h"

/* scheme://host[:port][path] from libcurl's parse, or NULL when it does
 * not parse.  libcurl drops nothing it was not asked for, so the user,
 * password, options, query and fragment are simply never read. */
static char *by_curl(const char *url)
{
    const curl_api *C = curl_lazy(NULL, 0);
    if (!C)
        return NULL;     /* by hand, then */
    CURLU *h = C->url();
    if (!h)
        return NULL;
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *out = NULL;
    if (C->url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        C->url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        C->url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        C->url_get(h, CURLUPART_PORT, &port, 0);
        C->url_get(h, CURLUPART_PATH, &path, 0);
        /* libcurl adds "/" to a URL without a path, and lower-cases the
         * scheme: show them as given ("REDIS://" is refused as written). */
        bool show_path = path && strcmp(path, "/") != 0;
        out = str_printf("%.*s://%s%s%s%s", (int)strlen(scheme), url, host, port ? ":" : "",
                         port ? port : "", show_path ? path : "");
    }
    C->free(scheme);
    C->free(host);
    C->free(port);
    C->free(path);
    C->url_cleanup(h);
    return out;
}

static char *by_hand(const char *url);

char *url_redact(const char *url)
{
    /* libcurl reads "unix:/path" as host "path": only scheme://... goes to it. */
    size_t sl = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    char *out = sl && !strncmp(url + sl, "://", 3) ? by_curl(url) : NULL;
    if (!out)
        out = by_hand(url);
    /* A value from a file or the environment may hold a newline or an
     * escape sequence: a message shows none of them. */
    for (unsigned char *q = (unsigned char *)out; *q; q++)
        if (*q < 0x20 || *q == 0x7f)
            *q = '?';
    return out;
}

static char *by_hand(const char *url)
{
    /* By hand: a scheme ("unix:", " redis:" after blanks), then at most the
     * part up to a query or fragment, without anything up to an '@'. */
    const char *p = url;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *c = p;
    while (isalnum((unsigned char)*c) || *c == '+' || *c == '-' || *c == '.')
        c++;
    if (c == p || *c != ':')
        return str_printf("(a value of %zu bytes that is not a URL)", strlen(url));
    size_t end = strcspn(url, "?#\r\n");
    const char *rest = c + 1;
    const char *at = NULL;
    for (const char *q = rest; q < url + end; q++)
        if (*q == '@')
            at = q;
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    buf_append(&b, url, (size_t)(rest - url));
    if (at) {
        if (rest[0] == '/' && rest[1] == '/')
            buf_puts(&b, "//");
        rest = at + 1;
    }
    buf_append(&b, rest, (size_t)(url + end - rest));
    if (!buf_ok(&b)) {      /* longer than a buffer may grow: not a URL to show */
        buf_free(&b);
        return str_printf("(a value of %zu bytes that is not a URL)", strlen(url));
    }
    return b.data ? b.data : xstrdup("");
}
