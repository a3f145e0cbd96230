/* plan_check.c - see plan_check.h. */
#include "plan_check.h"

#include <string.h>

int64_t plan_log_entries(int64_t count, int64_t window_ms, int64_t cost)
{
    int64_t by_count = count / cost;
    return by_count < window_ms ? by_count : window_ms;
}

bool plan_namespace_ok(const char *ns)
{
    size_t n = 0;
    for (const char *c = ns; *c; c++, n++)
        if (n == PLAN_NS_MAX ||
            !((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-' || *c == '.'))
            return false;
    return n > 0;
}

static const char *const methods[] = {"GET",    "HEAD",    "POST", "PUT", "PATCH",
                                      "DELETE", "OPTIONS", "ANY"};

const char *const *plan_methods(size_t *n)
{
    *n = sizeof methods / sizeof methods[0];
    return methods;
}

bool plan_method_ok(const char *m)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (!strcmp(methods[i], m))
            return true;
    return false;
}

const char *plan_route_problem(const char *p)
{
    if (p[0] != '/')
        return "route path must start with '/'";
    for (const char *c = p; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == '?' || *c == '#')
            return "route path may not contain spaces, control characters, '?' or '#'";
        if (*c == '/' && c[1] == '/')
            return "route path has an empty segment ('//')";
        if (*c == '*' && (c[-1] != '/' || (c[1] != '/' && c[1] != '\0')))
            return "'*' must be a whole path segment (as in \"/v1/*/items\")";
    }
    return NULL;
}

/* A numeric identifier of semver 2.0.0: 0, or digits without a leading
 * zero, below 10^9 (a version is a name, not a quantity).  Advances *p. */
static bool semver_number(const char **p, long *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return false;
    long v = 0;
    int n = 0;
    for (; *s >= '0' && *s <= '9'; s++, n++) {
        if (n == 9)
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    *p = s;
    return true;
}

static bool semver_ident_char(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           ch == '-';
}

/* Dot-separated non-empty identifiers of [0-9A-Za-z-]; in a pre-release
 * (numeric_rule) an all-digit identifier has no leading zero. */
static bool semver_idents(const char **p, bool numeric_rule)
{
    const char *s = *p;
    for (;;) {
        const char *start = s;
        bool digits = true;
        while (semver_ident_char(*s)) {
            digits &= *s >= '0' && *s <= '9';
            s++;
        }
        if (s == start || (numeric_rule && digits && s - start > 1 && *start == '0'))
            return false;
        if (*s != '.')
            break;
        s++;
    }
    *p = s;
    return true;
}

/* MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], exactly the grammar of semver
 * 2.0.0 and nothing after it. */
bool plan_version_parse(const char *s, long *maj, long *min, long *patch)
{
    if (!s || !semver_number(&s, maj) || *s++ != '.' || !semver_number(&s, min) ||
        *s++ != '.' || !semver_number(&s, patch))
        return false;
    if (*s == '-') {
        s++;
        if (!semver_idents(&s, true))
            return false;
    }
    if (*s == '+') {
        s++;
        if (!semver_idents(&s, false))
            return false;
    }
    return *s == '\0';
}

bool plan_compiler_parse(const char *s, long *maj, long *min, long *patch)
{
    return s && !strncmp(s, "rlc ", 4) && plan_version_parse(s + 4, maj, min, patch);
}
