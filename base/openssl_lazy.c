/* openssl_lazy.c - libcrypto and libssl loaded on first use.  See
 * openssl_lazy.h. */
#include "openssl_lazy.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static openssl_api api;

/* One library's state: tried once, loaded or not, and why not. */
typedef struct lib_state {
    bool tried, loaded;
    char why[256];
} lib_state;

static lib_state crypto_lib, ssl_lib;

/* dlsym's void * into a function pointer: POSIX guarantees the
 * conversion works; the memcpy keeps -Wpedantic quiet about it. */
static bool sym(void *lib, lib_state *st, const char *soname, const char *name, void *fp,
                size_t n)
{
    void *p = dlsym(lib, name);
    if (!p) {
        snprintf(st->why, sizeof st->why, "%s: no symbol %s", soname, name);
        return false;
    }
    memcpy(fp, &p, n);
    return true;
}

static void *open_lib(lib_state *st, const char *soname)
{
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *d = dlerror();
        snprintf(st->why, sizeof st->why, "%s", d ? d : "cannot be loaded");
    }
    return lib;
}

static const openssl_api *result(const lib_state *st, char *err, size_t errlen)
{
    if (!st->loaded && err && errlen)
        snprintf(err, errlen, "%s", st->why);
    return st->loaded ? &api : NULL;
}

/* One statement per function of a list: each resolved while all before
 * it were.  The library is kept loaded either way: a half-resolved table
 * is never used, and OpenSSL registers handlers at exit that must find it
 * mapped. */
#define LOAD(name) ok = ok && sym(lib, st, soname, #name, &api.name, sizeof api.name);

const openssl_api *openssl_crypto(char *err, size_t errlen)
{
    lib_state *st = &crypto_lib;
    if (!st->tried) {
        st->tried = true;
        const char *soname = OPENSSL_LAZY_CRYPTO;
        void *lib = open_lib(st, soname);
        bool ok = lib != NULL;
        OPENSSL_LAZY_CRYPTO_FUNCS(LOAD)
        st->loaded = ok;
    }
    return result(st, err, errlen);
}

const openssl_api *openssl_ssl(char *err, size_t errlen)
{
    lib_state *st = &ssl_lib;
    if (!st->tried) {
        st->tried = true;
        if (!openssl_crypto(st->why, sizeof st->why))
            return result(st, err, errlen);
        const char *soname = OPENSSL_LAZY_SSL;
        void *lib = open_lib(st, soname);
        bool ok = lib != NULL;
        OPENSSL_LAZY_SSL_FUNCS(LOAD)
        st->loaded = ok;
    }
    return result(st, err, errlen);
}
