/* rules.h - the enforcement rules of a plan, as the runtime needs them:
 * per tenant, every limit with its subject path, route and numbers, read
 * from the plan's "policy" and "tenants" members (SPEC.md sections 5 and 6).
 * This is the one place that turns plan JSON into rules; the simulator, the
 * Redis config encoder and the deploy executor all start from it.  It does
 * not decide anything (algo.c, sim.c do) and never includes compiler/. */
#ifndef RLC_RULES_H
#define RLC_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "arena.h"
#include "plan_check.h"
#include "plan_kind.h"

/* Longest request cost the runtime accepts (an argument from the gateway). */
#define RL_MAX_REQUEST_COST (1LL << 31)

typedef struct rl_rule {
    char id[PLAN_RULE_ID_LEN + 1];
    plan_kind kind;
    bool shadow;
    int64_t count, window_ms, burst, cost;  /* rate rules */
    int64_t max, lease_ms;                  /* concurrency */
    int64_t max_request;    /* largest request cost the rule can ever admit:
                             * burst / cost (buckets), count / cost (windows) */
    /* Subject below the tenant, "group:team-a/key:k_123" ("" = the tenant
     * itself), names percent-encoded for '%' and '/' (SPEC.md 6.2). */
    const char *subject;
    int depth;                              /* tenant = 1 */
    /* Bit d-1 set: the subject at depth d is a template (`key *`), whose
     * counters are per value: the request's names at those depths name
     * the counter (SPEC.md 6.1). */
    unsigned any_mask;
    const char *method;                     /* NULL: no route */
    const char *route;
    const char **segs;                      /* route split at '/' */
    size_t nsegs;
} rl_rule;

typedef struct rl_tenant {
    const char *name;
    const char *version; /* the plan's tenants[].version (SPEC.md 5.5); NULL if absent */
    bool version_ok;     /* version checked against the rules' digest (text reader) */
    rl_rule *rules;      /* sorted by (depth, subject, id): evaluation order */
    size_t nrules;
    /* Not NULL: the tenant's rules are not read yet (rules and nrules are
     * empty until rules_tenant_load): its canonical text, borrowed from the
     * caller (rules_add_tenant_lazy, rules_tenant_attach). */
    const char *text;
    size_t text_len;
    /* Taken from the canonical text by rules_add_tenant_lazy (or known, as
     * below): a deploy's record may then vouch for its bucket. */
    bool canonical;
    /* Added by rules_add_tenant_known: not read from the plan at all; its
     * bucket (of the plan's tenant_index) is read, through the ruleset's
     * fetch, when its rules are first needed. */
    bool deferred;
    size_t bucket;
    /* Read from a bucket of the plan whose digest is not checked yet (nor,
     * for a tenant taken from its text, its version against its rules):
     * the ruleset's check does both before its rules are read; only its
     * name is used until then. */
    bool unchecked;
    /* Its text was read whole by a reader that takes exactly one tenant
     * object or refuses (so where it was cut from its bucket is proven). */
    bool parsed;
} rl_tenant;

typedef struct rl_ruleset {
    arena *a;            /* owns everything below */
    const char *ns;
    const char *policy;
    int64_t skew_ms;
    bool client_time;
    bool fail_closed;
    rl_tenant *tenants;  /* sorted by name */
    size_t ntenants;
    rl_tenant *any_tenant; /* `tenant *` (name "*"), for every tenant not
                              in tenants; NULL when the plan has none */
    /* Reads the text of deferred tenant t from its bucket of the plan and
     * hands it to rules_tenant_attach (which may attach the bucket's other
     * tenants too); set by whoever added deferred tenants. */
    bool (*fetch)(void *ud, struct rl_ruleset *rs, const struct rl_tenant *t, char *err,
                  size_t errlen);
    void *fetch_ud;
    /* Checks the bucket of unchecked tenant t (and with it t), called with
     * fetch_ud before t's rules are read; false with err (and fetch_code)
     * set when the bucket or t's version is not what the plan's index
     * says.  Set by whoever added unchecked tenants. */
    bool (*check)(void *ud, struct rl_ruleset *rs, const struct rl_tenant *t, char *err,
                  size_t errlen);
    int fetch_code;      /* the diagnostic code of fetch's last failure */
    bool load_failed;    /* a rules_tenant_load refused a tenant */
    size_t read_once;    /* tenants read by rules_tenant_read and left unread */
    rl_rule *no_rules;   /* the rules of every tenant not read yet: one empty
                            rule, shared (each its own cost 15 MB at 100 000) */
} rl_ruleset;

/* Reads the rules from a plan document (or any object with "policy" and
 * "tenants" members of the plan's shape).  Borrows plan.  On success fills
 * *out (release with rules_free) and returns true; otherwise returns false
 * with a message naming the offending member in err, and *out is empty. */
bool rules_from_plan(const json_t *plan, rl_ruleset *out, char *err, size_t errlen);
/* The same in steps, for a plan read one tenant at a time (plan_load_streamed):
 * rules_begin reads the policy and makes room for ntenants tenants;
 * rules_add_tenant reads one tenant object (borrowed; the ruleset copies
 * what it keeps); rules_finish sorts the tenants and refuses duplicates.
 * After a failure of add or finish, rules_free the ruleset. */
bool rules_begin(const json_t *plan, size_t ntenants, rl_ruleset *out, char *err,
                 size_t errlen);
bool rules_add_tenant(rl_ruleset *rs, const json_t *tenant, char *err, size_t errlen);
/* rules_add_tenant from a tenant's text, [text, text + len), when it is
 * the canonical form rlc compile writes: RULES_TEXT_OK (added),
 * RULES_TEXT_ERROR (a rule id repeated, or a "version" that is not the
 * SHA-256 of the rules' text; err says so), or RULES_TEXT_OTHER
 * when the text is anything else (escaped strings, other fields, values out
 * of range...): nothing was added, and the caller reads the tenant with
 * jansson and rules_add_tenant, which accepts the same tenants, builds the
 * same rules, and names what is wrong.  Many times faster than a tree. */
typedef enum rules_text_result {
    RULES_TEXT_OK,
    RULES_TEXT_ERROR,
    RULES_TEXT_OTHER,
} rules_text_result;
rules_text_result rules_add_tenant_text(rl_ruleset *rs, const char *text, size_t len,
                                        char *err, size_t errlen);
/* rules_add_tenant_text without reading the rules: the name, and the
 * version checked against the SHA-256 of the rules' text, so that a deploy
 * can compare versions without building rules it does not use.  text must
 * stay valid until rules_tenant_load has read the tenant or the ruleset is
 * freed.  RULES_TEXT_OTHER, with nothing added, when the tenant is not in
 * the canonical form or its version is not that digest: the other readers
 * then take it, and say what is wrong; RULES_TEXT_ERROR when its name
 * makes a key too long. */
rules_text_result rules_add_tenant_lazy(rl_ruleset *rs, const char *text, size_t len,
                                        char *err, size_t errlen);
/* rules_add_tenant_lazy of a tenant whose bucket's digest is not checked
 * yet: its version is not hashed either, and it is added unchecked, for
 * rules_tenant_check to complete before its rules are used. */
rules_text_result rules_add_tenant_unchecked(rl_ruleset *rs, const char *text, size_t len,
                                             char *err, size_t errlen);
/* Checks the version of unchecked tenant t (one rules_add_tenant_unchecked
 * added) against the SHA-256 of its rules' text, and marks it checked;
 * false with a message (RLC3106's) when it is not that digest.  A tenant
 * without text (read through jansson, which checked its version) is only
 * marked. */
bool rules_tenant_check(rl_ruleset *rs, const rl_tenant *t, char *err, size_t errlen);
/* Reads the rules of a tenant added by rules_add_tenant_lazy (any other
 * tenant: true at once), filling it in place, as rules_add_tenant_text
 * would have; false with a message naming the tenant and what is wrong
 * when its rules are not ones the runtime takes.  Every reader of a
 * tenant's rules on the deploy path calls this first. */
bool rules_tenant_load(rl_ruleset *rs, const rl_tenant *t, char *err, size_t errlen);
/* The rules of t as rules_tenant_load would read them, into *out (t's
 * name and version, the rules allocated in scratch), leaving t unread:
 * for a caller that needs them once (to encode a config) and would
 * rather not keep 100 000 tenants' rules.  A tenant already read is copied
 * as it is; one the text reader does not take is read into the ruleset. */
bool rules_tenant_read(rl_ruleset *rs, const rl_tenant *t, arena *scratch, rl_tenant *out,
                       char *err, size_t errlen);
/* A tenant known without reading the plan: its name and version (64 hex
 * digits), vouched for by a record of the bucket k it is in (a bucket with
 * the same digest was read whole before).  Its rules are read with its
 * bucket, through rs->fetch, when first needed.  Borrows name and version,
 * which must outlive rs: a deploy's 100 000 known tenants are not copied. */
bool rules_add_tenant_known(rl_ruleset *rs, const char *name, const char *version,
                            size_t bucket, char *err, size_t errlen);
/* For rs->fetch: the canonical text of deferred tenant t, taken from its
 * bucket without checking the bucket's digest, attached to t (borrowed);
 * false when the text is not canonical, names another tenant, or its
 * rules do not hash to the version the record gave t. */
bool rules_tenant_attach(rl_ruleset *rs, const rl_tenant *t, const char *text, size_t len,
                         char *err, size_t errlen);
bool rules_finish(rl_ruleset *rs, char *err, size_t errlen);
/* Reads the plan's "tenant_template" member ({"rules", "version"}; absent
 * when the policy has no `tenant *`) into rs->any_tenant. */
bool rules_add_template(rl_ruleset *rs, const json_t *plan, char *err, size_t errlen);
/* Frees what rules_from_plan allocated.  Accepts a zeroed ruleset. */
void rules_free(rl_ruleset *rs);

/* Finds a listed tenant by name, or NULL. */
const rl_tenant *rules_tenant(const rl_ruleset *rs, const char *name);
/* The rules that decide tenant name: its own, else `tenant *`'s, else NULL. */
const rl_tenant *rules_tenant_or_template(const rl_ruleset *rs, const char *name);

/* Whether rule r's route applies to (method, route path): no route, or
 * method equal or "ANY" and the path matching segment by segment ('*' is
 * one segment; a trailing '*' one or more). */
bool rules_route_matches(const rl_rule *r, const char *method, const char *path);

#endif
