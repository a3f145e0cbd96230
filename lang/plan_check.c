/* plan_check.c - see plan_check.h. */
#include "plan_check.h"

#include <string.h>

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

/* One number of a version: 1 to 6 digits, no leading zero; *s moves past. */
static bool number(const char **s, long *out)
{
    const char *p = *s;
    long v = 0;
    int n = 0;
    while (*p >= '0' && *p <= '9' && n < 7) {
        v = v * 10 + (*p++ - '0');
        n++;
    }
    if (n == 0 || n > 6 || (n > 1 && **s == '0'))
        return false;
    *s = p;
    *out = v;
    return true;
}

bool plan_version_parse(const char *s, long *maj, long *min, long *patch)
{
    return number(&s, maj) && *s++ == '.' && number(&s, min) && *s++ == '.' &&
           number(&s, patch) && *s == '\0';
}

bool plan_compiler_parse(const char *s, long *maj, long *min, long *patch)
{
    return s && !strncmp(s, "rlc ", 4) && plan_version_parse(s + 4, maj, min, patch);
}
