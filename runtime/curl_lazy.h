/* curl_lazy.h - libcurl, loaded the first time an HTTP client or libcurl's
 * URL parser is needed, not at process start.
 *
 * Linking libcurl made every run map it and the two dozen libraries it
 * needs (about 3.5 ms of a run's CPU), while only etcd and HTTP targets
 * (and a message showing a URL) use it.  This is not a general loader:
 * it holds the functions rlc calls, no more. */
#ifndef RLC_CURL_LAZY_H
#define RLC_CURL_LAZY_H

#include <stddef.h>

#include <curl/curl.h>

/* The soname loaded: the ABI rlc is built against (libcurl4). */
#define CURL_LAZY_SONAME "libcurl.so.4"

typedef struct curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *c);
    void (*easy_reset)(CURL *c);
    CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *c);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode rc);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
    CURLU *(*url)(void);
    void (*url_cleanup)(CURLU *u);
    CURLUcode (*url_set)(CURLU *u, CURLUPart what, const char *part, unsigned int flags);
    CURLUcode (*url_get)(const CURLU *u, CURLUPart what, char **part, unsigned int flags);
    void (*free)(void *p);
} curl_api;

/* libcurl's functions, loading it on the first call (once per process:
 * a failure is remembered too).  NULL when it cannot be loaded, with why
 * in err (when err is not NULL).  The table is static: never freed. */
const curl_api *curl_lazy(char *err, size_t errlen);

#endif
