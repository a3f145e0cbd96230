/* plan_gateway.h - where a gateway takes a request's identity from: the
 * `tenant`, `path` and `cost` settings of an nginx target (SPEC.md 2.8,
 * 7.10).  One grammar for the compiler (which checks them and warns about
 * values a client chooses) and the runtime (which turns them into the
 * snippet and must refuse a hand-made plan the compiler would have
 * refused).  What the snippet does with the values is
 * stdlib/nginx_access.lua's. */
#ifndef RLC_PLAN_GATEWAY_H
#define RLC_PLAN_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

/* Levels below the tenant: the enforcement library decides at most 8
 * subjects below it (SPEC.md 6.3). */
#define GW_PATH_MAX_LEVELS 8
/* A variable name or a literal source, in bytes. */
#define GW_SOURCE_MAX 128

typedef enum gw_source_kind {
    GW_BAD,      /* neither of the two */
    GW_VARIABLE, /* "$name": the value of nginx variable name, per request */
    GW_LITERAL,  /* any other non-empty text without '$': that text */
} gw_source_kind;

/* Classifies a source.  For GW_VARIABLE, *var (when var is not NULL)
 * points at the name after '$' inside s (borrowed); for GW_BAD, *why
 * says what is wrong in words that fit "...: WHY". */
gw_source_kind gw_source(const char *s, const char **var, const char **why);

/* A path level "group:SOURCE" or "key:SOURCE": *kind is "group" or "key"
 * (static), *src points at SOURCE inside s.  False with *why otherwise
 * (the source itself is not checked here). */
bool gw_level(const char *s, const char **kind, const char **src, const char **why);

/* Whether the request's client chooses the value of nginx variable name
 * (request headers, cookies, arguments, the URI, the Host, ...): NULL
 * when it does not, else a short description of what the client sends. */
const char *gw_client_chosen(const char *name);

#endif
