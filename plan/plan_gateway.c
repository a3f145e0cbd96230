/* plan_gateway.c - the identity sources of a gateway.  See plan_gateway.h.
 * The list of client-chosen variables is nginx's (http://nginx.org/en/docs/
 * varindex.html): every variable whose value comes from the request line,
 * its headers or its body.  It does not try to know what other modules
 * (realip, auth_request, map) make of them: a variable the operator
 * defines is the operator's to vouch for. */
#include "plan_gateway.h"

#include <string.h>

static bool var_char(char c, bool first)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (!first && c >= '0' && c <= '9');
}

gw_source_kind gw_source(const char *s, const char **var, const char **why)
{
    size_t n = strlen(s);
    if (n == 0) {
        *why = "it is empty";
        return GW_BAD;
    }
    if (n > GW_SOURCE_MAX) {
        *why = "it is longer than 128 bytes";
        return GW_BAD;
    }
    if (s[0] != '$') {
        if (strchr(s, '$')) {
            *why = "a '$' may only start a variable name, and a source is one variable or "
                   "one literal name, never a mix";
            return GW_BAD;
        }
        for (const char *p = s; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                *why = "a literal name may not hold control characters";
                return GW_BAD;
            }
        return GW_LITERAL;
    }
    if (!var_char(s[1], true)) {
        *why = "a variable name after '$' starts with a letter or '_'";
        return GW_BAD;
    }
    for (const char *p = s + 2; *p; p++)
        if (!var_char(*p, false)) {
            *why = "a variable name holds only letters, digits and '_'";
            return GW_BAD;
        }
    if (var)
        *var = s + 1;
    return GW_VARIABLE;
}

bool gw_level(const char *s, const char **kind, const char **src, const char **why)
{
    if (!strncmp(s, "group:", 6)) {
        *kind = "group";
        *src = s + 6;
        return true;
    }
    if (!strncmp(s, "key:", 4)) {
        *kind = "key";
        *src = s + 4;
        return true;
    }
    *why = "a level is written group:SOURCE or key:SOURCE";
    return false;
}

static const struct {
    const char *name;
    bool prefix;
    const char *what;
} client_vars[] = {
    {"http_", true, "a request header"},
    {"cookie_", true, "a cookie"},
    {"arg_", true, "a query argument"},
    {"args", false, "the query string"},
    {"query_string", false, "the query string"},
    {"is_args", false, "the query string"},
    {"request_uri", false, "the request URI"},
    {"uri", false, "the request URI"},
    {"document_uri", false, "the request URI"},
    {"request", false, "the request line"},
    {"request_method", false, "the request method"},
    {"request_body", false, "the request body"},
    {"content_type", false, "the Content-Type header"},
    {"content_length", false, "the Content-Length header"},
    {"host", false, "the Host header or the request line"},
    {"server_protocol", false, "the request line"},
    {"remote_port", false, "its source port"},
    {"proxy_add_x_forwarded_for", false, "the X-Forwarded-For header"},
};

const char *gw_client_chosen(const char *name)
{
    for (size_t i = 0; i < sizeof client_vars / sizeof client_vars[0]; i++) {
        size_t n = strlen(client_vars[i].name);
        if (client_vars[i].prefix ? !strncmp(name, client_vars[i].name, n)
                                  : !strcmp(name, client_vars[i].name))
            return client_vars[i].what;
    }
    return NULL;
}
