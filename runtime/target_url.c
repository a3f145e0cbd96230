/* target_url.c - store URLs from settings and overrides.  See target_url.h. */
#include "target_url.h"

#include <stdlib.h>
#include <string.h>

#include "secret.h"

/* A URL from a variable or a file may carry a password. */
static bool parse_secret(char *text, size_t n, bool ok, rurl *u, rerr *e)
{
    if (ok)
        ok = rurl_parse(text, true, u, e);
    secret_wipe(text, n);
    return ok;
}

bool target_url_from_spec(const char *spec, rurl *u, rerr *e)
{
    if (strncmp(spec, "env:", 4) && strncmp(spec, "file:", 5))
        return rurl_parse(spec, false, u, e);
    char text[TARGET_URL_MAX];
    return parse_secret(text, sizeof text,
                        secret_resolve_spec(spec, "store URL", text, sizeof text, e), u, e);
}

bool target_url_from_setting(const json_t *setting, rurl *u, rerr *e)
{
    if (json_is_string(setting))
        return rurl_parse(json_string_value(setting), false, u, e);
    if (!json_is_object(setting) ||
        (!json_is_string(json_object_get(setting, "env")) &&
         !json_is_string(json_object_get(setting, "file"))))
        return rerr_set(e, DIAG_STORE_URL, "target url setting must be a URL, {\"env\": VAR} "
                        "or {\"file\": PATH}");
    char text[TARGET_URL_MAX];
    return parse_secret(text, sizeof text,
                        secret_resolve(setting, "store URL", text, sizeof text, e), u, e);
}
