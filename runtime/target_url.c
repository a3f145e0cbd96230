/* target_url.c - store URLs from settings and overrides.  See target_url.h. */
#include "target_url.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "statedir.h"

static bool from_env(const char *var, rurl *u, rerr *e)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return rerr_set(e, DIAG_SECRET, "environment variable %s (the store URL) is not set",
                        var);
    return rurl_parse(v, true, u, e);
}

static bool from_file(const char *path, rurl *u, rerr *e)
{
    char *s = statedir_read(path, NULL);
    if (!s)
        return rerr_set(e, DIAG_SECRET, "cannot read the store URL from %s: %s", path,
                        strerror(errno));
    s[strcspn(s, "\r\n")] = '\0';
    bool ok = rurl_parse(s, true, u, e);
    memset(s, 0, strlen(s));
    free(s);
    return ok;
}

bool target_url_from_spec(const char *spec, rurl *u, rerr *e)
{
    if (!strncmp(spec, "env:", 4))
        return from_env(spec + 4, u, e);
    if (!strncmp(spec, "file:", 5))
        return from_file(spec + 5, u, e);
    return rurl_parse(spec, false, u, e);
}

bool target_url_from_setting(const json_t *setting, rurl *u, rerr *e)
{
    if (json_is_string(setting))
        return rurl_parse(json_string_value(setting), false, u, e);
    const json_t *v;
    if (json_is_object(setting) && json_is_string(v = json_object_get(setting, "env")))
        return from_env(json_string_value(v), u, e);
    if (json_is_object(setting) && json_is_string(v = json_object_get(setting, "file")))
        return from_file(json_string_value(v), u, e);
    return rerr_set(e, DIAG_STORE_URL, "target url setting must be a URL, {\"env\": VAR} or "
                                       "{\"file\": PATH}");
}
