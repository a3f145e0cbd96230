/* secret.c - resolving env(), file() and literal settings.  See secret.h. */
#include "secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void secret_wipe(char *s, size_t n)
{
    /* explicit_bzero: a memset the compiler may not remove as dead. */
    if (s)
        explicit_bzero(s, n);
}

/* Copies value (len bytes) into out, refusing what does not fit: a cut
 * password or URL would fail later, far from its cause. */
static bool put(const char *value, size_t len, const char *src, const char *what, char *out,
                size_t n, rerr *e)
{
    if (len >= n)
        return rerr_set(e, DIAG_SECRET, "%s (the %s) is longer than %zu bytes", src, what,
                        n - 1);
    memcpy(out, value, len);
    out[len] = '\0';
    return true;
}

static bool from_env(const char *var, const char *what, char *out, size_t n, rerr *e)
{
    const char *v = getenv(var);
    if (!v)
        return rerr_set(e, DIAG_SECRET, "environment variable %s (the %s) is not set", var,
                        what);
    if (!*v)
        return rerr_set(e, DIAG_SECRET, "environment variable %s (the %s) is empty", var,
                        what);
    char src[300];
    snprintf(src, sizeof src, "environment variable %s", var);
    return put(v, strlen(v), src, what, out, n, e);
}

static bool from_file(const char *path, const char *what, char *out, size_t n, rerr *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return rerr_set(e, DIAG_SECRET, "cannot read the %s from %s: %s", what, path,
                        strerror(errno));
    char b[SECRET_FILE_MAX + 1];
    size_t len = fread(b, 1, sizeof b, f);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    bool ok = false;
    if (err)
        rerr_set(e, DIAG_SECRET, "cannot read the %s from %s: %s", what, path,
                 err == EISDIR ? "it is a directory" : strerror(err));
    else if (len > SECRET_FILE_MAX)
        rerr_set(e, DIAG_SECRET, "file %s (the %s) is larger than %d bytes", path, what,
                 SECRET_FILE_MAX);
    else {
        size_t line = 0;
        while (line < len && b[line] != '\n' && b[line] != '\r' && b[line] != '\0')
            line++;
        char src[300];
        snprintf(src, sizeof src, "file %s", path);
        if (!line)
            rerr_set(e, DIAG_SECRET, "file %s (the %s) is empty", path, what);
        else
            ok = put(b, line, src, what, out, n, e);
    }
    secret_wipe(b, sizeof b);
    return ok;
}

bool secret_resolve(const json_t *setting, const char *what, char *out, size_t n, rerr *e)
{
    out[0] = '\0';
    if (!setting || json_is_null(setting))
        return true;
    if (json_is_string(setting))
        return put(json_string_value(setting), json_string_length(setting), "the value", what,
                   out, n, e);
    const char *v;
    if ((v = json_string_value(json_object_get(setting, "env"))))
        return from_env(v, what, out, n, e);
    if ((v = json_string_value(json_object_get(setting, "file"))))
        return from_file(v, what, out, n, e);
    return rerr_set(e, DIAG_SECRET, "the %s must be a string, {\"env\": VAR} or "
                                    "{\"file\": PATH}", what);
}

bool secret_resolve_spec(const char *spec, const char *what, char *out, size_t n, rerr *e)
{
    out[0] = '\0';
    if (!strncmp(spec, "env:", 4))
        return from_env(spec + 4, what, out, n, e);
    if (!strncmp(spec, "file:", 5))
        return from_file(spec + 5, what, out, n, e);
    return put(spec, strlen(spec), "the value", what, out, n, e);
}
