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

bool target_url_tls_settings(const json_t *settings, rurl *u, rerr *e)
{
    static const char *const names[] = {"ca_file", "cert_file", "key_file", "tls_server_name"};
    rtls *t = &u->tls;
    char *out[] = {t->ca_file, t->cert_file, t->key_file, t->server_name};
    size_t outn[] = {sizeof t->ca_file, sizeof t->cert_file, sizeof t->key_file,
                     sizeof t->server_name};
    const char *given = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = json_string_value(json_object_get(settings, names[i]));
        if (!v)
            continue;
        given = names[i];
        if (strlen(v) >= outn[i])
            return rerr_set(e, DIAG_TLS_CONFIG, "%s is too long", names[i]);
        snprintf(out[i], outn[i], "%s", v);
    }
    const json_t *verify = json_object_get(settings, "tls_verify");
    if (json_is_boolean(verify)) {
        given = "tls_verify";
        t->no_verify = json_is_false(verify);
    }
    const json_t *kp = json_object_get(settings, "key_passphrase");
    if (kp) {
        given = "key_passphrase";
        if (!secret_resolve(kp, "key_passphrase", t->key_pass, sizeof t->key_pass, e))
            return false;
    }
    if (given && !t->on)
        return rerr_set(e, DIAG_TLS_CONFIG, "%s is a TLS setting but the URL is redis://; "
                        "use rediss:// to reach the store over TLS", given);
    return true;
}
