/* curl_lazy.c - libcurl loaded on first use.  See curl_lazy.h. */
#include "curl_lazy.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static curl_api api;
static bool tried, loaded;
static char why[256];

/* dlsym's void * into a function pointer: POSIX guarantees the
 * conversion works; the memcpy keeps -Wpedantic quiet about it. */
static bool sym(void *lib, const char *name, void *fp, size_t n)
{
    void *p = dlsym(lib, name);
    if (!p) {
        snprintf(why, sizeof why, "%s: no symbol %s", CURL_LAZY_SONAME, name);
        return false;
    }
    memcpy(fp, &p, n);
    return true;
}

#define SYM(field, name) sym(lib, name, &api.field, sizeof api.field)

const curl_api *curl_lazy(char *err, size_t errlen)
{
    if (!tried) {
        tried = true;
        void *lib = dlopen(CURL_LAZY_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            const char *d = dlerror();
            snprintf(why, sizeof why, "%s", d ? d : CURL_LAZY_SONAME ": cannot be loaded");
        } else {
            loaded = SYM(global_init, "curl_global_init") && SYM(easy_init, "curl_easy_init") &&
                     SYM(easy_cleanup, "curl_easy_cleanup") &&
                     SYM(easy_reset, "curl_easy_reset") &&
                     SYM(easy_setopt, "curl_easy_setopt") &&
                     SYM(easy_perform, "curl_easy_perform") &&
                     SYM(easy_getinfo, "curl_easy_getinfo") &&
                     SYM(easy_strerror, "curl_easy_strerror") &&
                     SYM(slist_append, "curl_slist_append") &&
                     SYM(slist_free_all, "curl_slist_free_all") && SYM(url, "curl_url") &&
                     SYM(url_cleanup, "curl_url_cleanup") && SYM(url_set, "curl_url_set") &&
                     SYM(url_get, "curl_url_get") && SYM(free, "curl_free");
            /* Kept loaded either way: a half-resolved table is never used,
             * and unloading a library libcurl's dependencies may have
             * registered handlers in is not worth the risk. */
        }
    }
    if (!loaded && err && errlen)
        snprintf(err, errlen, "%s", why);
    return loaded ? &api : NULL;
}
