/* model.h - the checked, resolved meaning of a policy: what the hazard
 * passes analyse and the plan is generated from.  Tier inheritance is
 * flattened (each tenant carries its effective limits), names are resolved
 * to pointers, every value is typed and in range.  Everything lives in the
 * program's arena and points back at the AST for locations. */
#ifndef RLC_MODEL_H
#define RLC_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "buf.h"
#include "plan_check.h"
#include "plan_kind.h"
#include "program.h"
#include "strmap.h"

/* Limits per block, routes per block (RLC1043). */
#define BLOCK_MAX_LIMITS 64
#define BLOCK_MAX_ROUTES 64

/* A policy has millions of limits (each subject's effective ones, tier
 * limits copied in): 40 bytes where a pointer, an enum and a tier number
 * took 56.  The window (at most 366 days, 35 bits) shares its word with the
 * algorithm and the flags; which tier a limit was written in is told by
 * its src (hz_limit_own). */
typedef struct m_limit {
    const ast_node *src;        /* the limit as written (maybe in a tier) */
    int64_t count;
    int64_t burst;              /* bucket capacity; = count unless given */
    int64_t cost;               /* units charged per request, >= 1 */
    int64_t window_ms : 40;     /* 1 ms to PLAN_WINDOW_MAX_MS */
    uint8_t algo;               /* a plan_kind: a whole byte, read unmasked */
    bool burst_set : 1;
    bool shadow : 1;
    bool from_template : 1;     /* a listed subject's copy of its template's */
    bool from_tier : 1;         /* written in a tier */
} m_limit;
_Static_assert(sizeof(m_limit) == 40, "a limit takes 40 bytes");
_Static_assert(PLAN_WINDOW_MAX_MS < ((int64_t)1 << 39), "a window fits in 40 bits");
_Static_assert(PLAN_CONCURRENCY <= UINT8_MAX, "a plan_kind fits in m_limit's byte");

typedef struct m_conc {
    const ast_node *src;
    int64_t max;
    int64_t lease_ms;           /* 0 when no lease was written */
    bool shadow;
} m_conc;

/* Where a route of a level's array was written, so the hazard passes can
 * tell its own routes from copies without reading the AST (a cache miss
 * per route at a million tenants): in the block of the subject holding it,
 * in the tier of this no, or in the template its subject starts from. */
#define ROUTE_OWN 0u
#define ROUTE_FROM_TEMPLATE UINT32_MAX

typedef struct m_route {
    const ast_node *src;
    const char *method;         /* upper case; "ANY" matches every method */
    const char *path;           /* '*' segments are wildcards */
    m_limit *limits;
    uint32_t nlimits;
    uint32_t owner;             /* ROUTE_OWN, a tier's no, or ROUTE_FROM_TEMPLATE */
    m_conc *conc;               /* or NULL */
} m_route;

typedef struct m_tier {
    uint32_t no;                /* 1 + its index in m_policy.tiers */
    const char *name;
    const ast_node *src;
    struct m_tier *parent;      /* extends, or NULL */
    m_limit *limits;            /* effective: own limits over inherited */
    size_t nlimits;
    m_route *routes;
    size_t nroutes;
    m_conc *conc;
    int state;                  /* resolution state (internal) */
} m_tier;

/* What few subjects have: a concurrency pool, a template they start from. */
typedef struct m_subject_rare {
    const m_conc *conc;         /* or NULL */
    const struct m_subject *tmpl; /* a listed group or key: the template beside
                                   it that it starts from, or NULL */
} m_subject_rare;

/* A policy has millions of subjects, so the counts are 32-bit and packed
 * after the pointers, the kind is a byte, the name is read from src
 * (subject_name), and the concurrency and template, which few subjects
 * have, are kept aside (subject_conc, subject_tmpl): 64 bytes (was 80, 96,
 * 104 before).  No count can reach 2^32 (a source file is at most 64 MiB).
 * A tenant's tier is its src's ref: its limits, routes and concurrency are
 * already merged into these. */
typedef struct m_subject {
    const ast_node *src;
    struct m_subject *parent;
    struct m_subject *children;   /* nchildren of them, side by side */
    m_limit *limits;            /* effective limits on this subject; a tenant
                                   with none of its own shares its tier's array,
                                   so never write through these */
    m_route *routes;            /* the same for routes */
    m_subject_rare *rare;       /* NULL when it has neither */
    uint32_t nchildren, nlimits, nroutes;
    uint8_t kind;               /* AST_TENANT, AST_GROUP or AST_KEY */
    bool any;                   /* a template (`key *`): every unlisted name,
                                   each with counters of its own; its name is
                                   "*" */
} m_subject;

/* The subject's concurrency pool, or NULL. */
static inline const m_conc *subject_conc(const m_subject *s)
{
    return s->rare ? s->rare->conc : NULL;
}

/* A listed group or key: the template beside it that it starts from, or
 * NULL. */
static inline const struct m_subject *subject_tmpl(const m_subject *s)
{
    return s->rare ? s->rare->tmpl : NULL;
}

/* The subject's name as written ("*" for a template). */
static inline const char *subject_name(const m_subject *s)
{
    return s->src->name.s;
}
_Static_assert(AST_T_WAIT <= UINT8_MAX, "an ast_kind fits in m_subject's byte");
_Static_assert(sizeof(m_subject) <= 64, "a subject takes at most 64 bytes");

typedef enum target_kind {
    TARGET_REDIS, TARGET_ETCD, TARGET_HTTP, TARGET_NGINX, TARGET_ENVOY, TARGET_LIMITADOR
} target_kind;
#define TARGET_NKINDS 6

/* A setting value as the runtime needs it: literal, or where to fetch it. */
typedef struct m_value {
    val_kind kind;              /* VAL_STRING/INT/DURATION/IDENT/ENV/FILE/LIST */
    const ast_value *src;
    const char *s;
    int64_t i;                  /* int, or duration in ms, or bool 0/1 */
} m_value;

typedef struct m_setting {
    const char *name;
    const ast_node *src;
    m_value v;
} m_setting;

typedef struct m_target {
    target_kind kind;
    const char *name;
    const ast_node *src;
    m_setting *settings;
    size_t nsettings;
} m_target;

typedef struct m_allow {
    int code;
    const char *reason;
    const ast_node *src;
    const ast_node *scope;      /* enclosing block, or NULL at top level */
} m_allow;

typedef struct m_policy {
    const ast_node *src;        /* the policy block, or NULL */
    const char *name;           /* "" when there is no policy block */
    const char *ns;             /* key prefix, default "rl" */
    int64_t max_clock_skew_ms;  /* default 0 */
    bool client_time;           /* time_source = client */
    bool fail_closed;           /* on_store_error = fail_closed */
    bool allow_loosening;
    plan_kind default_algo;

    m_tier **tiers;
    size_t ntiers;
    m_subject **tenants;        /* in declaration order; listed ones only */
    size_t ntenants;
    m_subject *any_tenant;      /* `tenant *`, or NULL */
    strmap tenant_by_name;
    m_target *targets;
    size_t ntargets;
    const ast_node **tests;
    size_t ntests;
    m_allow *allows;
    size_t nallows;
} m_policy;

/* Resolves names and checks values of a loaded program.  Diagnostics go to
 * p->diags.  Returns the model (in p's arena; free with model_free before
 * program_free) even when errors were found, so later passes can decide. */
m_policy *model_build(program *p);
/* Frees the model's heap parts (hash maps).  Accepts NULL. */
void model_free(m_policy *m);

/* Writes the "acme/team-a/k_123" style path of s into out (truncated to
 * n): a template is a bare `*`; a listed name that is "*", empty, holds a
 * '/' or starts with '"' is written as a string ("*"), so the path reads
 * one way only.  For tables, where the kind has a column of its own. */
void subject_path(const m_subject *s, char *out, size_t n);
/* Appends how the policy language names s, from its tenant down: `tenant
 * "acme" group "team-a" key *` (a template is a bare `*`, a listed name a
 * string, escaped as `rlc fmt` writes it).  Every message that names a
 * subject names it so. */
void subject_label(const m_subject *s, buf *out);

/* The child of s a request naming (kind, name) is decided by: the listed
 * child of that name, else s's template of that kind, else NULL. */
const m_subject *subject_resolve(const m_subject *s, ast_kind kind, const char *name);
/* s's template child of this kind (`key *`), or NULL. */
const m_subject *subject_template(const m_subject *s, ast_kind kind);

#endif
